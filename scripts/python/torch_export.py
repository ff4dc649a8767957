#!/usr/bin/python3
"""PyTorch nn.LSTM / nn.GRU / nn.RNN + nn.Linear head -> edge-rnn model file v1, no ONNX needed.

PyTorch's layout and gate order are format v1's (LSTM i, f, g, o; GRU r, z, n with the reset
gate after the recurrent product), so every weight is copied as it is, as float32:

    from torch_export import torch_to_edge_rnn, write_model
    model = torch_to_edge_rnn(net.rnn, [net.fc], inputs=['temperature', 'humidity'],
                              outputs=['temperature', 'humidity'], name='mote-forecaster',
                              input_mean=[...], input_std=[...], output_mean=[...], output_std=[...])
    write_model('mote-forecaster.msgpack', model)

`head` is a list of nn.Linear and nn.ReLU / nn.Tanh / nn.Sigmoid / nn.Softmax(dim=-1) modules,
applied at every step to the last layer's h. With window=W (issue 19) the model is windowed:
the runtime runs `rnn` over the last W readings from the zero state, every `hop` readings,
and the head reads pool='last' (torch.cat([h_n[-2], h_n[-1]], -1) for a bidirectional rnn,
h_n[-1] otherwise) or pool='mean' (out.mean(dim=steps)); bidirectional=True layers map their
*_reverse weights to `reverse`. Refused (ValueError): bidirectional without a window, LSTM
proj_size, anything else in the head. Needs python3-torch and python3-msgpack.

Run as a script, it regenerates the committed fixture test/fixtures/python/torch-gru.*
and test/fixtures/python/torch-bilstm-window.* (test/model/python-torch-export.test.ts):
    /usr/bin/python3 scripts/python/torch_export.py
"""
import json
import os
import struct
import sys

import msgpack
import torch

ACTIVATIONS = {torch.nn.ReLU: 'relu', torch.nn.Tanh: 'tanh', torch.nn.Sigmoid: 'sigmoid', torch.nn.Softmax: 'softmax'}


def tensor(t):
    v = t.detach().to(torch.float32).contiguous().reshape(-1).tolist()
    return {'dtype': 'f32', 'shape': list(t.shape), 'data': struct.pack('<%df' % len(v), *v)}


def vector(values, n, what):
    if len(values) != n:
        raise ValueError(f'{what}: {len(values)} values for {n}')
    return tensor(torch.tensor(values, dtype=torch.float64))


def recurrent_layers(rnn, windowed=False):
    if rnn.bidirectional and not windowed:
        raise ValueError('a bidirectional rnn runs over a window of readings only: give window=W (one reading at a time there are no later readings to read back from)')
    if isinstance(rnn, torch.nn.LSTM) and rnn.proj_size:
        raise ValueError('LSTM proj_size is not supported')
    kind = {torch.nn.LSTM: 'lstm', torch.nn.GRU: 'gru', torch.nn.RNN: 'rnn'}[type(rnn)]
    gates = {'lstm': 4, 'gru': 3, 'rnn': 1}[kind]
    H, layers, width = rnn.hidden_size, [], rnn.input_size
    for k in range(rnn.num_layers):
        zeros = torch.zeros(gates * H)
        layer = {'type': kind, 'inputSize': width, 'hiddenSize': H}
        if kind == 'rnn':
            layer['activation'] = rnn.nonlinearity
        def weights(suffix):
            return {
                'wIh': tensor(getattr(rnn, f'weight_ih_l{k}{suffix}')), 'wHh': tensor(getattr(rnn, f'weight_hh_l{k}{suffix}')),
                'bIh': tensor(getattr(rnn, f'bias_ih_l{k}{suffix}') if rnn.bias else zeros),
                'bHh': tensor(getattr(rnn, f'bias_hh_l{k}{suffix}') if rnn.bias else zeros),
            }
        layer.update(weights(''))
        if rnn.bidirectional:
            layer.update({'direction': 'bidirectional', 'reverse': weights('_reverse')})
        layers.append(layer)
        width = H * (2 if rnn.bidirectional else 1)
    return layers, width


def dense_layers(head, width):
    layers = []
    for m in head:
        if isinstance(m, torch.nn.Linear):
            b = m.bias if m.bias is not None else torch.zeros(m.out_features)
            layers.append({'type': 'dense', 'inputSize': width, 'outputSize': m.out_features, 'activation': 'linear',
                           'w': tensor(m.weight), 'b': tensor(b)})
            width = m.out_features
        elif type(m) in ACTIVATIONS:
            if isinstance(m, torch.nn.Softmax) and m.dim not in (-1, None):
                raise ValueError('Softmax must be over the last dimension (dim=-1)')
            if not layers or layers[-1]['activation'] != 'linear':  # identity weights carry the activation
                eye = torch.eye(width)
                layers.append({'type': 'dense', 'inputSize': width, 'outputSize': width, 'activation': 'linear',
                               'w': tensor(eye), 'b': tensor(torch.zeros(width))})
            layers[-1]['activation'] = ACTIVATIONS[type(m)]
        else:
            raise ValueError(f'{type(m).__name__} in the head is not supported (nn.Linear, ReLU, Tanh, Sigmoid, Softmax)')
    return layers, width


def torch_to_edge_rnn(rnn, head, inputs, outputs, name, model_version=1, task='regression', labels=None,
                      input_mean=None, input_std=None, output_mean=None, output_std=None, horizon=None, meta=None,
                      window=None, hop=1, pool='last'):
    """The format v1 map (plain dict, ready for msgpack) for `rnn` followed by `head`."""
    if window is not None and (pool not in ('last', 'mean') or not 1 <= hop <= window):
        raise ValueError(f'window {window}, hop {hop}, pool {pool!r}: need 1 <= hop <= window and pool last or mean')
    rec, width = recurrent_layers(rnn, window is not None)
    dense, width = dense_layers(head, width)
    I = rnn.input_size
    if len(inputs) != I:
        raise ValueError(f'{len(inputs)} input names for {I} inputs')
    model = {
        'format': 'edge-rnn', 'version': 1, 'name': name, 'modelVersion': model_version, 'task': task,
        'inputs': {'names': list(inputs), 'mean': vector(input_mean or [0.0] * I, I, 'input_mean'),
                   'std': vector(input_std or [1.0] * I, I, 'input_std')},
        'layers': rec + dense,
        'meta': {'trainedWith': f'pytorch {torch.__version__} (scripts/python/torch_export.py)',
                 'normalisation': 'given to torch_export' if input_mean else 'none: the network reads raw readings',
                 **(meta or {})},
    }
    if task == 'classification':
        if not labels or len(labels) != width:
            raise ValueError(f'classification needs {width} labels')
        model['outputs'] = {'names': list(outputs or ['label']), 'labels': list(labels)}
    else:
        if len(outputs) != width:
            raise ValueError(f'{len(outputs)} output names for {width} outputs')
        model['outputs'] = {'names': list(outputs)}
        if output_mean is not None:
            model['outputs'].update({'mean': vector(output_mean, width, 'output_mean'), 'std': vector(output_std, width, 'output_std')})
    if horizon:
        model['outputs']['horizon'] = horizon
    if window is not None:
        model['window'] = {'size': window, 'hop': hop}
        model['outputs']['from'] = pool
    return model


def write_model(path, model):
    with open(path, 'wb') as f:
        f.write(msgpack.packb(model, use_bin_type=True))


if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'python')
    torch.manual_seed(16)
    rnn = torch.nn.GRU(2, 5, num_layers=2, batch_first=True)
    head = [torch.nn.Linear(5, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)]
    mean, std, omean, ostd = [20.0, 50.0], [4.0, 8.0], [25.0, 40.0], [2.0, 4.0]
    model = torch_to_edge_rnn(rnn, head, ['temperature', 'humidity'], ['temperature', 'humidity'], 'torch-gru',
                              input_mean=mean, input_std=std, output_mean=omean, output_std=ostd, meta={'license': 'MIT'})
    write_model(os.path.join(out, 'torch-gru.msgpack'), model)
    # PyTorch's outputs in float64 on the same float32 weights, from a non-zero state (set
    # through the session API in the test) over 200 raw readings.
    g = torch.Generator().manual_seed(61)
    xs = (torch.randn(200, 2, generator=g) * torch.tensor(std) + torch.tensor(mean)).float().double()
    h0 = (torch.randn(2, 1, 5, generator=g) * 0.7).float().double()
    net = torch.nn.Sequential(*head).double()
    ref = rnn.double()
    with torch.no_grad():
        z = ((xs - torch.tensor(mean, dtype=torch.float64)) / torch.tensor(std, dtype=torch.float64)).unsqueeze(0)
        seq, hn = ref(z, h0)
        ys = net(seq)[0] * torch.tensor(ostd, dtype=torch.float64) + torch.tensor(omean, dtype=torch.float64)
    with open(os.path.join(out, 'torch-gru.expected.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'inputs': xs.tolist(), 'h0': h0[:, 0].tolist(), 'outputs': ys.tolist(),
                   'finalH': hn[:, 0].tolist()}, f)
    print('wrote', os.path.join(out, 'torch-gru.msgpack'))

    # A windowed bidirectional LSTM (2 layers) read through h_n: PyTorch's final states of
    # both directions, the format's pool 'last'. Outputs for every window of 8 readings, hop 3.
    torch.manual_seed(19)
    W, hop = 8, 3
    rnn = torch.nn.LSTM(2, 4, num_layers=2, batch_first=True, bidirectional=True)
    head = [torch.nn.Linear(8, 3), torch.nn.Softmax(dim=-1)]
    model = torch_to_edge_rnn(rnn, head, ['temperature', 'humidity'], ['label'], 'torch-bilstm-window', task='classification',
                              labels=['calm', 'event', 'storm'], input_mean=mean, input_std=std, window=W, hop=hop, pool='last')
    write_model(os.path.join(out, 'torch-bilstm-window.msgpack'), model)
    xs = (torch.randn(60, 2, generator=g) * torch.tensor(std) + torch.tensor(mean)).float().double()
    ref, net = rnn.double(), torch.nn.Sequential(*head).double()
    ends = list(range(W - 1, len(xs), hop))
    with torch.no_grad():
        z = (xs - torch.tensor(mean, dtype=torch.float64)) / torch.tensor(std, dtype=torch.float64)
        ys = []
        for e in ends:
            _, (hn, _) = ref(z[e - W + 1:e + 1].unsqueeze(0))
            ys.append(net(torch.cat([hn[-2], hn[-1]], dim=-1))[0].tolist())
    with open(os.path.join(out, 'torch-bilstm-window.expected.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'inputs': xs.tolist(), 'ends': ends, 'outputs': ys}, f)
    print('wrote', os.path.join(out, 'torch-bilstm-window.msgpack'))
