import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { isMsgpack, parseReading, type ParseResult } from '../../src/protocol/reading.js';

const names = ['temperature', 'humidity'];
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const code = (r: ParseResult) => (r.ok ? 'ok' : r.reason.code);

describe('parseReading', () => {
  it('reads JSON and msgpack alike, values in the model input order', () => {
    const doc = { ts: 1732615200000, seq: 17, values: { humidity: 45.9, temperature: 27.9, extra: 'ignored' } };
    for (const bytes of [json(doc), pack(doc)]) {
      const r = parseReading(bytes, names);
      expect(r).toEqual({ ok: true, reading: { ts: 1732615200000, seq: 17, values: [27.9, 45.9] } });
    }
  });

  it('tells msgpack from JSON by the first byte', () => {
    expect(isMsgpack(pack({ a: 1 }))).toBe(true);
    expect(isMsgpack(json({ a: 1 }))).toBe(false);
    expect(isMsgpack(new TextEncoder().encode(' {"a":1}'))).toBe(false);
  });

  it('accepts JSON with leading whitespace and no ts or seq', () => {
    const r = parseReading(new TextEncoder().encode('  {"values":{"temperature":1,"humidity":2}}\n'), names);
    expect(r).toEqual({ ok: true, reading: { values: [1, 2] } });
  });

  it.each([
    ['invalid JSON', new TextEncoder().encode('{"values": {'), 'invalid-json'],
    ['binary garbage', new Uint8Array([0x00, 0xff, 0xfe, 0x10]), 'invalid-encoding'],
    ['broken msgpack', new Uint8Array([0x82, 0xc1]), 'invalid-msgpack'],
    ['empty payload', new Uint8Array(0), 'empty'],
    ['a JSON number', json(42), 'not-a-map'],
    ['a JSON array', json([1, 2]), 'not-a-map'],
    ['values not a map', json({ values: [1, 2] }), 'not-a-map'],
    ['no values', json({ seq: 1 }), 'missing-input'],
    ['a missing input', json({ values: { temperature: 1 } }), 'missing-input'],
    ['a null input', json({ values: { temperature: 1, humidity: null } }), 'missing-input'],
    ['a string value', json({ values: { temperature: '27.9', humidity: 1 } }), 'non-numeric'],
    ['a boolean value', json({ values: { temperature: true, humidity: 1 } }), 'non-numeric'],
    ['NaN (msgpack)', pack({ values: { temperature: NaN, humidity: 1 } }), 'non-finite'],
    ['Infinity (msgpack)', pack({ values: { temperature: 1, humidity: Infinity } }), 'non-finite'],
    ['1e999 (JSON)', new TextEncoder().encode('{"values":{"temperature":1e999,"humidity":1}}'), 'non-finite'],
    ['a negative seq', json({ seq: -1, values: { temperature: 1, humidity: 1 } }), 'bad-seq'],
    ['a fractional seq', json({ seq: 1.5, values: { temperature: 1, humidity: 1 } }), 'bad-seq'],
    ['a string ts', json({ ts: 'now', values: { temperature: 1, humidity: 1 } }), 'bad-ts'],
  ])('rejects %s with a reason', (_, bytes, want) => {
    const r = parseReading(bytes, names);
    expect(code(r)).toBe(want);
    if (!r.ok) expect(r.reason.message.length).toBeGreaterThan(5);
  });

  it('rejects payloads over the byte limit before decoding them', () => {
    const doc = json({ values: { temperature: 1, humidity: 2 }, pad: 'x'.repeat(100) });
    expect(code(parseReading(doc, names, { maxBytes: doc.length }))).toBe('ok');
    const r = parseReading(doc, names, { maxBytes: doc.length - 1 });
    expect(code(r)).toBe('too-large');
    if (!r.ok) expect(r.reason.message).toContain(String(doc.length));
  });

  it('never throws, whatever the bytes', () => {
    let s = 12345;
    for (let n = 0; n < 2000; n++) {
      const len = n % 64;
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
      if (n % 3 === 0 && len > 0) b[0] = 0x80 + (n % 16); // msgpack map headers too
      expect(() => parseReading(b, names)).not.toThrow();
    }
  });
});
