#!/usr/bin/python3
# Regenerates the PyTorch golden fixtures of windowed models (issue 19) in
# test/fixtures/golden-window/*.json.
#
# NOT part of CI or `npm test`: the fixtures are committed, and
# test/golden/window-golden.test.ts reads them. Run this only to change or add cases:
#
#     /usr/bin/python3 scripts/golden/make-window-golden.py
#
# Each case builds torch.nn.RNN / LSTM / GRU (bidirectional or not, 1 or 2 layers) and an
# nn.Linear head under a fixed seed, rounds every weight to float32 (what our runtime
# stores), and feeds a stream of raw readings through the windowed model the way the runtime
# does: every window of the last W readings that ends a hop (the first when W readings have
# arrived, then every `hop`) is normalised and run from a zero state, in float64 on exactly
# those float32 numbers. The window's last recurrent outputs are reduced as outputs.from
# says: "last" = output[-1, :H] (forward h after the last reading) with output[0, H:] (the
# reverse direction's h after reading back to the first, its final state), "mean" = the mean
# over the window; then the head and the output de-normalisation.
#
# `expectedInt8` repeats the run with the recurrent and dense weight matrices quantized as
# src/model/quantize.ts does (per row: scale = f32(max|w| / 127), q = round half away from
# zero of w / scale, clamped to ±127) and replaced by q · scale: the numbers an int8 model
# stands for.
import json
import math
import os

import torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'golden-window')
SEED = 20261203
INPUT_SCALE = 1.5

# name, cell, rnn activation, I, H, layers, bidirectional, W, hop, from, head [(O, act)], normalised
CASES = [
    ('lstm-bi-l1-last', 'lstm', None, 3, 5, 1, True, 8, 3, 'last', [(2, 'softmax')], True),
    ('lstm-bi-l2-mean', 'lstm', None, 3, 4, 2, True, 10, 4, 'mean', [(3, 'linear')], True),
    ('lstm-bi-l1-h16-mean', 'lstm', None, 4, 16, 1, True, 32, 8, 'mean', [(2, 'softmax')], False),
    ('gru-bi-l1-mean', 'gru', None, 2, 6, 1, True, 7, 2, 'mean', [(3, 'softmax')], True),
    ('gru-bi-l2-last', 'gru', None, 4, 3, 2, True, 9, 9, 'last', [(1, 'linear')], True),
    ('gru-bi-l1-nohead-last', 'gru', None, 3, 4, 1, True, 6, 2, 'last', [], True),
    ('rnn-tanh-bi-l1-last', 'rnn', 'tanh', 3, 5, 1, True, 6, 1, 'last', [(2, 'linear')], False),
    ('rnn-relu-bi-l2-mean', 'rnn', 'relu', 2, 4, 2, True, 5, 2, 'mean', [(4, 'tanh'), (2, 'softmax')], True),
    ('lstm-fwd-l2-last', 'lstm', None, 3, 5, 2, False, 8, 4, 'last', [(2, 'softmax')], True),
    ('gru-fwd-l1-mean', 'gru', None, 3, 8, 1, False, 12, 5, 'mean', [(1, 'linear')], False),
]

HEAD_ACTIVATIONS = {
    'linear': lambda v: v,
    'relu': torch.relu,
    'tanh': torch.tanh,
    'sigmoid': torch.sigmoid,
    'softmax': lambda v: torch.softmax(v, dim=-1),
}


def r9(v):
    """Round to 9 significant digits: enough to round-trip float32 exactly."""
    return float('%.9g' % v)


def flat(t):
    return [r9(v) for v in t.detach().reshape(-1).tolist()]


def rows(t):
    return [[r9(v) for v in row] for row in t.detach().tolist()]


def f32(t):
    return t.float().double()


def quantize_rows(w):
    """q · scale of src/model/quantize.ts, in float64 (w: a [rows, cols] float64 tensor of float32 values)."""
    out = torch.empty_like(w)
    for r in range(w.shape[0]):
        m = float(w[r].abs().max())
        s = 1.0 if m == 0 else float(torch.tensor(m / 127, dtype=torch.float32))
        if s == 0:
            s = 1.401298464324817e-45
        for c in range(w.shape[1]):
            v = float(w[r, c]) / s
            a = abs(v)
            q = math.floor(a)
            if a - q >= 0.5:
                q += 1
            q = min(q, 127)
            out[r, c] = (-q if v < 0 else q) * s
    return out


def windows(n, W, hop):
    """Indices of the readings that end a window: W-1, then every hop."""
    return list(range(W - 1, n, hop))


def run_window(rnn, heads, x, H, bi, reduce):
    with torch.no_grad():
        seq = rnn(x)[0][0]  # [W, H or 2H], zero initial state
        if reduce == 'mean':
            v = seq.mean(dim=0)
        elif bi:
            v = torch.cat([seq[-1, :H], seq[0, H:]])
        else:
            v = seq[-1]
        for (lin, act) in heads:
            v = HEAD_ACTIVATIONS[act](lin(v))
    return v


def build_case(idx, name, cell, act, I, H, L, bi, W, hop, reduce, head, norm):
    torch.manual_seed(SEED + idx)
    if cell == 'rnn':
        rnn = torch.nn.RNN(I, H, num_layers=L, nonlinearity=act, batch_first=True, bidirectional=bi)
    elif cell == 'lstm':
        rnn = torch.nn.LSTM(I, H, num_layers=L, batch_first=True, bidirectional=bi)
    else:
        rnn = torch.nn.GRU(I, H, num_layers=L, batch_first=True, bidirectional=bi)
    rnn = rnn.double()
    heads = []
    width = 2 * H if bi else H
    for (size, a) in head:
        lin = torch.nn.Linear(width, size).double()
        heads.append((lin, a))
        width = size
    out_width = width
    with torch.no_grad():
        for p in list(rnn.parameters()) + [q for (lin, _) in heads for q in lin.parameters()]:
            p.copy_(f32(p))

    g = torch.Generator().manual_seed(SEED * 7 + idx)
    n = W + 4 * hop + 3
    z = torch.randn(n, I, generator=g, dtype=torch.float64) * INPUT_SCALE
    normalisation = None
    if norm:
        in_mean = f32(torch.randn(I, generator=g, dtype=torch.float64) * 20)
        in_std = f32(torch.rand(I, generator=g, dtype=torch.float64) * 5 + 0.5)
        x_raw = f32(z * in_std + in_mean)
        normalisation = {'inputMean': flat(in_mean), 'inputStd': flat(in_std)}
        if head[-1:] and head[-1][1] != 'softmax' or not head:
            out_mean = f32(torch.randn(out_width, generator=g, dtype=torch.float64) * 10)
            out_std = f32(torch.rand(out_width, generator=g, dtype=torch.float64) * 3 + 0.5)
            normalisation.update({'outputMean': flat(out_mean), 'outputStd': flat(out_std)})
    else:
        in_mean = torch.zeros(I, dtype=torch.float64)
        in_std = torch.ones(I, dtype=torch.float64)
        x_raw = f32(z)

    def outputs(model_rnn, model_heads):
        res = []
        for e in windows(n, W, hop):
            x = (x_raw[e - W + 1:e + 1] - in_mean) / in_std
            v = run_window(model_rnn, model_heads, x.unsqueeze(0), H, bi, reduce)
            if normalisation and 'outputMean' in normalisation:
                v = v * out_std + out_mean
            res.append({'last': e, 'y': flat(v)})
        return res

    expected = outputs(rnn, heads)
    # The int8 model's numbers: every weight matrix (not the biases) replaced by q · scale.
    import copy
    qrnn = copy.deepcopy(rnn)
    qheads = [(copy.deepcopy(lin), a) for (lin, a) in heads]
    with torch.no_grad():
        for pname, p in qrnn.named_parameters():
            if pname.startswith('weight_'):
                p.copy_(quantize_rows(p))
        for (lin, _) in qheads:
            lin.weight.copy_(quantize_rows(lin.weight))
    expected_int8 = outputs(qrnn, qheads)

    sd = rnn.state_dict()
    layers = []
    for k in range(L):
        layer = {}
        for suffix in ([''] + (['_reverse'] if bi else [])):
            for kind in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
                key = f'{kind}_l{k}{suffix}'
                layer[key] = flat(sd[key])
        layers.append(layer)

    return {
        'name': name,
        'generator': 'scripts/golden/make-window-golden.py',
        'torch': torch.__version__,
        'seed': SEED + idx,
        'cell': cell,
        'activation': act,
        'bidirectional': bi,
        'inputSize': I,
        'hiddenSize': H,
        'numLayers': L,
        'window': {'size': W, 'hop': hop},
        'from': reduce,
        'layers': layers,
        'dense': [
            {'outputSize': lin.out_features, 'activation': a, 'weight': flat(lin.weight), 'bias': flat(lin.bias)}
            for (lin, a) in heads
        ],
        'normalisation': normalisation,
        'inputs': rows(x_raw),
        'expected': expected,
        'expectedInt8': expected_int8,
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for idx, c in enumerate(CASES):
        fx = build_case(idx, *c)
        text = json.dumps(fx, separators=(',', ':')) + '\n'
        with open(os.path.join(OUT_DIR, c[0] + '.json'), 'w') as f:
            f.write(text)
        total += len(text)
        print(f'{c[0]}: {len(fx["expected"])} windows over {len(fx["inputs"])} readings')
    print(f'{len(CASES)} fixtures, {total} bytes, torch {torch.__version__}')


if __name__ == '__main__':
    main()
