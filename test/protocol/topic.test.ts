import { describe, expect, it } from 'vitest';
import { deviceMatcher, devicesFromTopics, fillTopic, topicFiller } from '../../src/protocol/topic.js';

describe('topics', () => {
  it('takes the device id from the level the first + matches', () => {
    const m = deviceMatcher('sensors/+/reading');
    expect(m('sensors/mote-1/reading')).toBe('mote-1');
    expect(m('sensors//reading')).toBeNull();
    expect(m('sensors/mote-1/status')).toBeNull();
    expect(m('sensors/mote-1/reading/x')).toBeNull();
    expect(deviceMatcher('site/+/+/data')('site/a/b/data')).toBe('a');
    expect(deviceMatcher('lab/+/#')('lab/m7/x/y')).toBe('m7');
    expect(deviceMatcher('lab/#')('lab/m7')).toBeNull(); // no + level: no device id
    expect(deviceMatcher('$share/edge/sensors/+/reading')('sensors/m3/reading')).toBe('m3'); // shared subscription
  });

  it('tries several patterns in order', () => {
    const m = devicesFromTopics(['a/+/r', 'b/x/+']);
    expect(m('a/1/r')).toBe('1');
    expect(m('b/x/2')).toBe('2');
    expect(m('c/3')).toBeNull();
  });

  it('gives the same answers once topics are remembered, past the memory bound too', () => {
    const m = devicesFromTopics(['s/+/r', 'b/x/+']);
    const plain = (t: string) => deviceMatcher('s/+/r')(t) ?? deviceMatcher('b/x/+')(t);
    const topics = Array.from({ length: 10_000 }, (_, i) => (i % 3 === 0 ? `s/d${i % 5000}/r` : i % 3 === 1 ? `b/x/d${i}` : `s//r${i % 7}`));
    for (let round = 0; round < 2; round++) for (const t of topics) expect(m(t)).toBe(plain(t));
  });

  it('fills templates', () => {
    expect(fillTopic('predictions/{device}', { device: 'm1' })).toBe('predictions/m1');
    expect(fillTopic('edge-rnn/{instance}/status', { instance: 'pi' })).toBe('edge-rnn/pi/status');
  });

  it('topicFiller fills like fillTopic, with {instance} fixed once', () => {
    const templates = ['predictions/{device}', 'p/{instance}/{device}/x', 'fixed/topic', '{device}{device}-{instance}', '{instance}', 'a/{other}/{device}'];
    for (const tpl of templates) {
      for (const instance of ['pi', '{device}', undefined]) {
        const fill = topicFiller(tpl, instance);
        for (const device of ['m1', '', '{instance}', 'a/b']) expect(fill(device)).toBe(fillTopic(tpl, { device, instance }));
      }
    }
  });
});
