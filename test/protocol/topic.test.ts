import { describe, expect, it } from 'vitest';
import { deviceMatcher, devicesFromTopics, fillTopic } from '../../src/protocol/topic.js';

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

  it('fills templates', () => {
    expect(fillTopic('predictions/{device}', { device: 'm1' })).toBe('predictions/m1');
    expect(fillTopic('edge-rnn/{instance}/status', { instance: 'pi' })).toBe('edge-rnn/pi/status');
  });
});
