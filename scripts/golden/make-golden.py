#!/usr/bin/python3
# Regenerates the PyTorch golden fixtures in test/fixtures/golden/*.json.
#
# NOT part of CI or `npm test`: the fixtures are committed, and test/golden/torch-golden.test.ts
# reads them. Run this only to change or add cases:
#
#     /usr/bin/python3 scripts/golden/make-golden.py
#
# (Debian's python3-torch lives under /usr/bin/python3, not a pyenv python on PATH.)
#
# Each case builds torch.nn.RNN / LSTM / GRU (+ optional nn.Linear head) with PyTorch's default
# initialisation under a fixed seed, rounds every weight to float32 (what our runtime stores),
# then runs the reference in float64 from a non-zero random initial state (also float32
# values) over inputs ~ N(0, 1.5) (float32 values). Being float64 on exactly the float32
# numbers the runtime holds, the reference's own rounding error is far below the test's 1e-5.
import json
import os
import sys

import torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'golden')
SEED = 20261126
T = 200
INPUT_SCALE = 1.5

# name, cell, activation (rnn only), inputSize, hiddenSize, layers, dense head, normalisation
# Covers every cell and RNN activation, depths 1 and 2, I in {1,3,8}, H in {1,5,16,32}.
RECURRENT = [
    ('rnn-tanh-l1-i1-h1', 'rnn', 'tanh', 1, 1, 1),
    ('rnn-tanh-l1-i3-h16', 'rnn', 'tanh', 3, 16, 1),
    ('rnn-tanh-l2-i8-h32', 'rnn', 'tanh', 8, 32, 2),
    ('rnn-relu-l1-i8-h1', 'rnn', 'relu', 8, 1, 1),
    ('rnn-relu-l1-i3-h5', 'rnn', 'relu', 3, 5, 1),
    ('rnn-relu-l2-i1-h16', 'rnn', 'relu', 1, 16, 2),
    ('lstm-l1-i1-h1', 'lstm', None, 1, 1, 1),
    ('lstm-l1-i3-h5', 'lstm', None, 3, 5, 1),
    ('lstm-l1-i8-h32', 'lstm', None, 8, 32, 1),
    ('lstm-l2-i3-h16', 'lstm', None, 3, 16, 2),
    ('lstm-l2-i1-h1', 'lstm', None, 1, 1, 2),
    ('gru-l1-i1-h1', 'gru', None, 1, 1, 1),
    ('gru-l1-i3-h16', 'gru', None, 3, 16, 1),
    ('gru-l1-i8-h32', 'gru', None, 8, 32, 1),
    ('gru-l2-i3-h5', 'gru', None, 3, 5, 2),
    ('gru-l2-i8-h1', 'gru', None, 8, 1, 2),
]

DENSE_ACTIVATIONS = {
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
    """Round a tensor to float32 values, held in float64."""
    return t.float().double()


def make_rnn(cell, activation, I, H, L):
    if cell == 'rnn':
        return torch.nn.RNN(I, H, num_layers=L, nonlinearity=activation, batch_first=True)
    if cell == 'lstm':
        return torch.nn.LSTM(I, H, num_layers=L, batch_first=True)
    return torch.nn.GRU(I, H, num_layers=L, batch_first=True)


def build_case(idx, name, cell, activation, I, H, L, dense=None, norm=None):
    torch.manual_seed(SEED + idx)
    rnn = make_rnn(cell, activation, I, H, L).double()  # float32 default init, widened exactly
    heads = []
    width = H
    for (size, act) in dense or []:
        lin = torch.nn.Linear(width, size).double()
        heads.append((lin, act))
        width = size
    with torch.no_grad():
        for p in list(rnn.parameters()) + [q for (lin, _) in heads for q in lin.parameters()]:
            p.copy_(f32(p))

    g = torch.Generator().manual_seed(SEED * 7 + idx)
    h0 = f32(torch.randn(L, 1, H, generator=g, dtype=torch.float64) * 0.8)
    c0 = f32(torch.randn(L, 1, H, generator=g, dtype=torch.float64) * 1.5) if cell == 'lstm' else None
    z = torch.randn(1, T, I, generator=g, dtype=torch.float64) * INPUT_SCALE
    if norm:
        in_mean = f32(torch.tensor(norm['inputMean'], dtype=torch.float64))
        in_std = f32(torch.tensor(norm['inputStd'], dtype=torch.float64))
        x_raw = f32(z * in_std + in_mean)  # raw sensor-scale readings, as the runtime receives them
        x = (x_raw - in_mean) / in_std
    else:
        x_raw = f32(z)
        x = x_raw

    with torch.no_grad():
        if cell == 'lstm':
            seq, (hn, cn) = rnn(x, (h0, c0))
        else:
            seq, hn = rnn(x, h0)
            cn = None
        y = seq
        for (lin, act) in heads:
            y = DENSE_ACTIVATIONS[act](lin(y))
        if norm:
            out_mean = f32(torch.tensor(norm['outputMean'], dtype=torch.float64))
            out_std = f32(torch.tensor(norm['outputStd'], dtype=torch.float64))
            y = y * out_std + out_mean

    sd = rnn.state_dict()
    layers = []
    for k in range(L):
        layer = {
            f'weight_ih_l{k}': flat(sd[f'weight_ih_l{k}']),
            f'weight_hh_l{k}': flat(sd[f'weight_hh_l{k}']),
            f'bias_ih_l{k}': flat(sd[f'bias_ih_l{k}']),
            f'bias_hh_l{k}': flat(sd[f'bias_hh_l{k}']),
            'h0': flat(h0[k, 0]),
        }
        if cell == 'lstm':
            layer['c0'] = flat(c0[k, 0])
        layers.append(layer)

    fixture = {
        'name': name,
        'generator': 'scripts/golden/make-golden.py',
        'torch': torch.__version__,
        'seed': SEED + idx,
        'cell': cell,
        'activation': activation,
        'inputSize': I,
        'hiddenSize': H,
        'numLayers': L,
        'steps': T,
        'layers': layers,
        'dense': [
            {'outputSize': lin.out_features, 'activation': act, 'weight': flat(lin.weight), 'bias': flat(lin.bias)}
            for (lin, act) in heads
        ],
        'normalisation': None if not norm else {
            'inputMean': flat(in_mean), 'inputStd': flat(in_std),
            'outputMean': flat(out_mean), 'outputStd': flat(out_std),
        },
        'inputs': rows(x_raw[0]),
        'expected': {
            'outputs': rows(y[0]),
            'h': [flat(hn[k, 0]) for k in range(L)],
            'c': [flat(cn[k, 0]) for k in range(L)] if cell == 'lstm' else None,
        },
    }
    return fixture


def main():
    torch.set_default_dtype(torch.float32)
    cases = []
    for (name, cell, act, I, H, L) in RECURRENT:
        cases.append(dict(name=name, cell=cell, activation=act, I=I, H=H, L=L))
    # Dense heads: LSTM -> Linear + each activation.
    for act in DENSE_ACTIVATIONS:
        cases.append(dict(name=f'lstm-dense-{act}', cell='lstm', activation=None, I=3, H=16, L=1, dense=[(4, act)]))
    # The session's full path: input normalisation, two stacked GRU layers, two dense layers,
    # output de-normalisation.
    cases.append(dict(
        name='gru-l2-norm-dense2', cell='gru', activation=None, I=3, H=16, L=2,
        dense=[(8, 'tanh'), (2, 'linear')],
        norm={'inputMean': [25.0, 60.0, 1013.0], 'inputStd': [3.0, 12.0, 8.0],
              'outputMean': [20.0, -5.0], 'outputStd': [4.0, 0.5]},
    ))
    cases.append(dict(
        name='lstm-l1-norm-relu', cell='lstm', activation=None, I=8, H=5, L=1,
        dense=[(3, 'relu')],
        norm={'inputMean': [0.5, -2.0, 10.0, 0.0, 3.0, -7.5, 100.0, 1.0],
              'inputStd': [0.1, 2.0, 5.0, 1.0, 0.25, 3.0, 20.0, 0.5],
              'outputMean': [1.0, 2.0, -3.0], 'outputStd': [2.0, 0.5, 3.0]},
    ))

    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for idx, c in enumerate(cases):
        fx = build_case(idx, c['name'], c['cell'], c['activation'], c['I'], c['H'], c['L'],
                        c.get('dense'), c.get('norm'))
        path = os.path.join(OUT_DIR, c['name'] + '.json')
        text = json.dumps(fx, separators=(',', ':')) + '\n'
        with open(path, 'w') as f:
            f.write(text)
        total += len(text)
        print(f'{c["name"]}: {len(text)} bytes', file=sys.stderr)
    print(f'{len(cases)} fixtures, {total} bytes, torch {torch.__version__}', file=sys.stderr)


if __name__ == '__main__':
    main()
