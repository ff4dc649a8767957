#!/usr/bin/python3
# Regenerates the ONNX import fixtures in test/fixtures/onnx/ (issue 16): real
# torch.onnx.export graphs of nn.LSTM / nn.GRU / nn.RNN stacks with nn.Linear heads, and
# PyTorch's own outputs over 200 steps from a non-zero initial state (`expected`) and from
# the zero state (`expectedFromZero`, what `edge-rnn predict` starts from).
#
# NOT part of CI or `npm test` (the fixtures are committed). Run only to change the cases:
#
#     /usr/bin/python3 scripts/python/make-onnx-fixtures.py
#
# Debian's python3-torch (1.13) and python3-onnx (1.12). The exported graph is float32; the
# reference runs the same module in float64 on exactly those float32 weights, state and
# inputs, so its own rounding is far below the test's 1e-5.
#
# window/*.onnx (issue 19): windowed sequence models, nn.LSTM / nn.GRU with bidirectional=True
# (and one forward-only stack), the steps reduced to one vector (out.mean(dim=steps), or the
# last step of a forward-only stack), exported without a state input. `expected` holds
# PyTorch's output for every window of `window` readings ending at `ends` (every `hop`
# readings from the window-th), each run from the zero state, as edge-rnn's windowed
# session runs them.
#
# refused/*.onnx: graphs edge-rnn must refuse. Bidirectional and an unknown op (LeakyRelu)
# are plain torch exports; torch never writes peepholes, input_forget, clip, other
# activations, GRU linear_before_reset = 0 or a sequence_lens input, so those are a torch
# export edited with the onnx library (one feature each).
import io
import json
import os

import onnx
import torch
from onnx import helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'onnx')
SEED = 20261202
T = 200
OPSET = 14
CELLS = {'lstm': torch.nn.LSTM, 'gru': torch.nn.GRU, 'rnn': torch.nn.RNN}
ACTS = {'tanh': torch.nn.Tanh, 'relu': torch.nn.ReLU, 'sigmoid': torch.nn.Sigmoid, 'leaky': torch.nn.LeakyReLU}


class Net(torch.nn.Module):
    """A recurrent stack and a head of Linear layers and activations, applied at every step
    (or, with last=True, to the last step only: PyTorch's `out[:, -1]`, exported as Gather + Gemm)."""

    def __init__(self, cell, I, H, L, head, batch_first, nonlinearity=None, last=False, bidirectional=False):
        super().__init__()
        kw = {'nonlinearity': nonlinearity or 'tanh'} if cell == 'rnn' else {}
        self.cell, self.last, self.batch_first = cell, last, batch_first
        self.rnn = CELLS[cell](I, H, num_layers=L, batch_first=batch_first, bidirectional=bidirectional, **kw)
        mods, width = [], H * (2 if bidirectional else 1)
        for part in head:
            if isinstance(part, int):
                mods.append(torch.nn.Linear(width, part))
                width = part
            elif part == 'softmax':
                mods.append(torch.nn.Softmax(dim=-1))
            else:
                mods.append(ACTS[part]())
        self.head = torch.nn.Sequential(*mods)

    def forward(self, x, h0=None, c0=None):
        if h0 is None:  # no state input: torch builds a zero state from Shape(x) (ConstantOfShape)
            y, h = self.rnn(x)
        elif self.cell == 'lstm':
            y, (h, c) = self.rnn(x, (h0, c0))
        else:
            y, h = self.rnn(x, h0)
        if self.last:
            y = y[:, -1] if self.batch_first else y[-1]
        return self.head(y), h


def r9(v):
    return float('%.9g' % v)


def nested(t):
    return json.loads(json.dumps(t.tolist()), parse_float=lambda s: r9(float(s))) if t.dim() else r9(t.item())


def export(net, I, L, H, path, state_input=True):
    cell = net.cell
    x = torch.zeros((1, 3, I) if net.batch_first else (3, 1, I))
    D = 2 if net.rnn.bidirectional else 1
    state = torch.zeros(L * D, 1, H)
    args = ((x, state, state) if cell == 'lstm' else (x, state)) if state_input else (x,)
    names = ['x', 'h0', 'c0'][:len(args)]
    seq_axis = 1 if net.batch_first else 0
    buf = io.BytesIO()
    torch.onnx.export(net, args, buf, input_names=names, output_names=['y', 'hn'], opset_version=OPSET,
                      dynamic_axes={'x': {seq_axis: 'steps'}, 'y': {seq_axis: 'steps'} if not net.last else {}})
    model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return model


def case(idx, name, cell, I, H, L, head, batch_first, nonlinearity=None, last=False, task='regression', labels=None, state_input=True):
    torch.manual_seed(SEED + idx)
    net = Net(cell, I, H, L, head, batch_first, nonlinearity, last).eval()
    export(net, I, L, H, os.path.join(OUT, f'{name}.onnx'), state_input)
    g = torch.Generator().manual_seed(SEED * 3 + idx)
    h0 = torch.randn(L, 1, H, generator=g) * 0.8
    c0 = torch.randn(L, 1, H, generator=g) * 1.5
    xs = torch.randn(T, I, generator=g) * 1.5
    ref = Net(cell, I, H, L, head, batch_first, nonlinearity, last).double().eval()
    ref.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    xd, h0d, c0d = xs.double(), h0.double(), c0.double()
    with torch.no_grad():
        def run(steps, h, c):
            seq = steps.unsqueeze(0) if batch_first else steps.unsqueeze(1)
            y, _ = ref(seq, h, c) if cell == 'lstm' else ref(seq, h)
            return y

        def outputs(h, c):
            if last:  # the graph predicts from the last step: run it on every prefix
                return torch.stack([run(xd[:t + 1], h, c).reshape(-1) for t in range(T)])
            return run(xd, h, c).reshape(T, -1)
        ys = outputs(h0d, c0d)
        ys_zero = outputs(torch.zeros_like(h0d), torch.zeros_like(c0d))  # what `edge-rnn predict` starts from
    O = ys.shape[1]
    fixture = {
        'name': name, 'generator': 'scripts/python/make-onnx-fixtures.py', 'torch': torch.__version__, 'onnx': onnx.__version__,
        'opset': OPSET, 'cell': cell, 'activation': nonlinearity, 'inputSize': I, 'hiddenSize': H, 'numLayers': L,
        'batchFirst': batch_first, 'lastStep': last, 'head': head, 'steps': T, 'task': task,
        'inputNames': [f'x{i}' for i in range(I)],
        'outputNames': ['label'] if task == 'classification' else [f'y{o}' for o in range(O)],
        **({'labels': labels} if labels else {}),
        'h0': nested(h0[:, 0]), **({'c0': nested(c0[:, 0])} if cell == 'lstm' else {}),
        'inputs': nested(xs), 'expected': nested(ys), 'expectedFromZero': nested(ys_zero),
    }
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
        f.write('\n')
    print(name, 'outputs', O)


class WindowNet(torch.nn.Module):
    """A recurrent stack over a whole window, reduced to one vector (mean over the steps, or
    the last step), then a head of Linear layers and activations."""

    def __init__(self, cell, I, H, L, head, batch_first, bidirectional, pool):
        super().__init__()
        self.batch_first, self.pool = batch_first, pool
        self.rnn = CELLS[cell](I, H, num_layers=L, batch_first=batch_first, bidirectional=bidirectional)
        self.head = Net(cell, I, H, L, head, batch_first, bidirectional=bidirectional).head

    def forward(self, x):
        y, _ = self.rnn(x)
        axis = 1 if self.batch_first else 0
        return self.head(y.mean(dim=axis) if self.pool == 'mean' else y.select(axis, -1))


def window_case(idx, name, cell, I, H, L, head, batch_first, bidirectional, pool, W, hop, task='regression', labels=None, out=None):
    d = out or os.path.join(OUT, 'window')
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(SEED + 100 + idx)
    net = WindowNet(cell, I, H, L, head, batch_first, bidirectional, pool).eval()
    x = torch.zeros((1, W, I) if batch_first else (W, 1, I))
    seq_axis = 1 if batch_first else 0
    buf = io.BytesIO()
    torch.onnx.export(net, (x,), buf, input_names=['x'], output_names=['y'], opset_version=OPSET, dynamic_axes={'x': {seq_axis: 'steps'}})
    model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, f'{name}.onnx'))
    if out:
        return
    g = torch.Generator().manual_seed(SEED * 5 + idx)
    steps = 120
    xs = torch.randn(steps, I, generator=g) * 1.5
    ref = WindowNet(cell, I, H, L, head, batch_first, bidirectional, pool).double().eval()
    ref.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    ends = list(range(W - 1, steps, hop))
    with torch.no_grad():
        def run(e):
            win = xs[e - W + 1:e + 1].double()
            return ref(win.unsqueeze(0) if batch_first else win.unsqueeze(1)).reshape(-1)
        ys = torch.stack([run(e) for e in ends])
    fixture = {
        'name': name, 'generator': 'scripts/python/make-onnx-fixtures.py', 'torch': torch.__version__, 'onnx': onnx.__version__,
        'opset': OPSET, 'cell': cell, 'inputSize': I, 'hiddenSize': H, 'numLayers': L, 'bidirectional': bidirectional,
        'batchFirst': batch_first, 'pool': pool, 'window': W, 'hop': hop, 'head': head, 'task': task,
        'inputNames': [f'x{i}' for i in range(I)],
        'outputNames': ['label'] if task == 'classification' else [f'y{o}' for o in range(ys.shape[1])],
        **({'labels': labels} if labels else {}),
        'inputs': nested(xs), 'ends': ends, 'expected': nested(ys),
    }
    with open(os.path.join(d, f'{name}.json'), 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
        f.write('\n')
    print(name, 'windows', len(ends))


def first(model, op):
    return next(n for n in model.graph.node if n.op_type == op)


def set_attr(node, name, value):
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def refused():
    d = os.path.join(OUT, 'refused')
    os.makedirs(d, exist_ok=True)

    def base(cell, name, **kw):
        torch.manual_seed(SEED)
        net = Net(cell, 2, 3, 1, [1], True, **kw).eval()
        return export(net, 2, 1, 3, os.path.join(d, f'{name}.onnx'))

    def edit(cell, name, change):
        model = base(cell, name)
        change(model, first(model, cell.upper()))
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(d, f'{name}.onnx'))

    torch.manual_seed(SEED)
    export(Net('lstm', 2, 3, 1, [1], True, bidirectional=True).eval(), 2, 1, 3, os.path.join(d, 'bidirectional.onnx'))
    torch.manual_seed(SEED)
    export(Net('gru', 2, 3, 1, [4, 'leaky', 1], True).eval(), 2, 1, 3, os.path.join(d, 'unknown-op.onnx'))

    def peepholes(model, node):
        model.graph.initializer.append(numpy_helper.from_array(
            (torch.arange(9, dtype=torch.float32).reshape(1, 9) / 10).numpy(), 'peepholes'))
        while len(node.input) < 8:
            node.input.append('')
        node.input[7] = 'peepholes'
    edit('lstm', 'peepholes', peepholes)
    edit('lstm', 'input-forget', lambda m, n: set_attr(n, 'input_forget', 1))
    edit('lstm', 'clip', lambda m, n: set_attr(n, 'clip', 3.0))
    edit('lstm', 'activations', lambda m, n: set_attr(n, 'activations', ['HardSigmoid', 'Tanh', 'Tanh']))
    edit('gru', 'gru-linear-before-reset-0', lambda m, n: set_attr(n, 'linear_before_reset', 0))

    def seq_lens(model, node):
        model.graph.input.append(helper.make_tensor_value_info('lengths', onnx.TensorProto.INT32, [1]))
        node.input[4] = 'lengths'
    edit('rnn', 'sequence-lens', seq_lens)
    print('refused graphs written')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    # name, cell, I, H, L, head (Linear sizes and activations), batch_first, rnn nonlinearity, last step only
    case(0, 'lstm-l1-h1', 'lstm', 2, 1, 1, [1], True)
    case(1, 'lstm-l2-h6-tanh-head', 'lstm', 3, 6, 2, [4, 'tanh', 2], False)
    case(2, 'gru-l1-h5-sigmoid', 'gru', 2, 5, 1, [2, 'sigmoid'], True)
    case(3, 'gru-l2-h1', 'gru', 3, 1, 2, [2], False)
    case(4, 'rnn-tanh-l2-h7', 'rnn', 2, 7, 2, [1], True, nonlinearity='tanh')
    case(5, 'rnn-relu-l1-h3-relu-head', 'rnn', 3, 3, 1, [3, 'relu', 1], False, nonlinearity='relu')
    case(6, 'lstm-l1-h6-softmax', 'lstm', 2, 6, 1, [3, 'softmax'], True, task='classification', labels=['calm', 'warm', 'hot'])
    case(7, 'gru-l2-h5-last-step-gemm', 'gru', 2, 5, 2, [2], True, last=True)
    # exported without a state input (the README's path): the graph holds a zero initial state
    case(8, 'lstm-l1-h4-no-state-input', 'lstm', 2, 4, 1, [2], True, state_input=False)
    # windowed (issue 19): name, cell, I, H, L, head, batch_first, bidirectional, pool, window, hop
    window_case(0, 'lstm-bi-l1-h4-mean-softmax', 'lstm', 2, 4, 1, [3, 'softmax'], True, True, 'mean', 10, 3, task='classification', labels=['calm', 'event', 'storm'])
    window_case(1, 'lstm-bi-l2-h3-mean', 'lstm', 3, 3, 2, [2], False, True, 'mean', 8, 1)
    window_case(2, 'gru-bi-l1-h5-mean-tanh-head', 'gru', 2, 5, 1, [4, 'tanh', 1], True, True, 'mean', 12, 4)
    window_case(3, 'gru-bi-l2-h2-mean', 'gru', 2, 2, 2, [2], False, True, 'mean', 6, 2)
    window_case(4, 'gru-fwd-l2-h4-last', 'gru', 2, 4, 2, [1], True, False, 'last', 9, 2)
    # refused with --window: the last step of a bidirectional layer (its reverse half has read one reading)
    window_case(5, 'bidirectional-last-step', 'lstm', 2, 3, 1, [1], True, True, 'last', 8, 1, out=os.path.join(OUT, 'refused'))
    refused()
