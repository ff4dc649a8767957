#!/usr/bin/env python3
"""Writes an LSTM model file v1 with only the stdlib + msgpack, and its expected outputs from a
pure-Python float64 LSTM (the DESIGN.md equations, PyTorch gate order i, f, g, o).
Regenerate the committed fixture (apt-get install python3-msgpack):
    python3 scripts/python/write_model.py test/fixtures/python"""
import json, math, struct, sys
import msgpack

I, H, O = 2, 3, 2
f32 = lambda v: struct.unpack('<f', struct.pack('<f', v))[0]  # the value the file can hold
vals = lambda n, k: [f32(0.6 * math.sin(1.3 * k + 0.77 * i + 0.1 * i * i)) for i in range(n)]
tensor = lambda shape, v: {'dtype': 'f32', 'shape': shape, 'data': struct.pack('<%df' % len(v), *v)}
wIh, wHh, bIh, bHh, w, b = vals(4 * H * I, 1), vals(4 * H * H, 2), vals(4 * H, 3), vals(4 * H, 4), vals(O * H, 5), vals(O, 6)
mean, std, omean, ostd = [20.0, 50.0], [4.0, 8.0], [25.0, 40.0], [2.5, 6.0]
model = {'format': 'edge-rnn', 'version': 1, 'name': 'from-python', 'modelVersion': 7, 'task': 'regression',
         'inputs': {'names': ['temperature', 'humidity'], 'mean': tensor([I], mean), 'std': tensor([I], std)},
         'outputs': {'names': ['temperature', 'humidity'], 'mean': tensor([O], omean), 'std': tensor([O], ostd), 'horizon': 1},
         'layers': [{'type': 'lstm', 'inputSize': I, 'hiddenSize': H, 'wIh': tensor([4 * H, I], wIh),
                     'wHh': tensor([4 * H, H], wHh), 'bIh': tensor([4 * H], bIh), 'bHh': tensor([4 * H], bHh)},
                    {'type': 'dense', 'inputSize': H, 'outputSize': O, 'activation': 'linear', 'w': tensor([O, H], w), 'b': tensor([O], b)}],
         'meta': {'trainedWith': 'scripts/python/write_model.py', 'license': 'MIT'}}
sig = lambda x: 1 / (1 + math.exp(-x))
xs = [[21.0, 48.0], [23.5, 55.0], [19.0, 61.0], [26.0, 40.0], [22.0, 50.5], [18.5, 47.0]]
h, c, ys = [0.0] * H, [0.0] * H, []
for x in xs:
    xn = [(x[i] - mean[i]) / std[i] for i in range(I)]
    g = [bIh[r] + bHh[r] + sum(wIh[r * I + j] * xn[j] for j in range(I)) + sum(wHh[r * H + j] * h[j] for j in range(H)) for r in range(4 * H)]
    c = [sig(g[H + j]) * c[j] + sig(g[j]) * math.tanh(g[2 * H + j]) for j in range(H)]
    h = [sig(g[3 * H + j]) * math.tanh(c[j]) for j in range(H)]
    ys.append([(b[k] + sum(w[k * H + j] * h[j] for j in range(H))) * ostd[k] + omean[k] for k in range(O)])
out = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/python'
with open(out + '/lstm-from-python.msgpack', 'wb') as f:
    f.write(msgpack.packb(model, use_bin_type=True))
with open(out + '/lstm-from-python.expected.json', 'w') as f:
    json.dump({'inputs': xs, 'outputs': ys, 'finalH': h, 'finalC': c}, f)
