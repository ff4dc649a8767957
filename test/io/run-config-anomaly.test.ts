// --anomaly / --anomaly-threshold through the settings table: flag, env var, config file;
// a threshold alone turns scoring on; a threshold must be a positive number.
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveRunConfig } from '../../src/io/run-config.js';

const resolve = (flags: Record<string, unknown>, env: Record<string, string> = {}) => resolveRunConfig({ flags: { model: 'm.msgpack', ...flags }, env });

describe('anomaly settings', () => {
  it('are off by default', () => {
    const c = resolve({});
    expect(c.anomaly).toBe(false);
    expect(c.anomalyThreshold).toBeUndefined();
  });
  it('--anomaly turns scoring on with the model\'s threshold', () => {
    expect([resolve({ anomaly: true }).anomaly, resolve({ anomaly: true }).anomalyThreshold]).toEqual([true, undefined]);
  });
  it('a threshold alone turns scoring on (flag or env var)', () => {
    expect(resolve({ anomalyThreshold: '6.5' })).toMatchObject({ anomaly: true, anomalyThreshold: 6.5 });
    expect(resolve({}, { EDGE_RNN_ANOMALY_THRESHOLD: '4' })).toMatchObject({ anomaly: true, anomalyThreshold: 4 });
    expect(resolve({}, { EDGE_RNN_ANOMALY: 'yes' }).anomaly).toBe(true);
  });
  it('refuses a threshold that is not a positive number, naming the flag', () => {
    expect(() => resolve({ anomalyThreshold: '0' })).toThrow(ConfigError);
    expect(() => resolve({ anomalyThreshold: 'high' })).toThrow(/--anomaly-threshold: expected a positive number/);
  });
});
