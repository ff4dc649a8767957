// A partition's checkpoint on a fake KV bucket: written with compare-and-set in the local
// checkpoint format, restored into another instance's table (its devices only, sequence
// history included, so a replayed reading is a duplicate), and refused to a stale owner.
import { describe, expect, it } from 'vitest';
import type { JsMsg } from 'nats';
import { PartitionFeed, partitionCheckpoint } from '../../../src/io/cluster/partition-feed.js';
import { checkpointKey } from '../../../src/io/cluster/subjects.js';
import { decodeCheckpoint } from '../../../src/io/state-checkpoint.js';
import { initModel } from '../../../src/model/index.js';
import { createSession } from '../../../src/runtime/session.js';
import { createCounters } from '../../../src/stream/counters.js';
import { DeviceTable } from '../../../src/stream/device-table.js';
import { FakeKv, VirtualClock } from '../../helpers/fake-kv.js';

const session = createSession(initModel({ name: 'm', inputs: ['x'], outputs: ['x'], cell: 'gru', hiddenSizes: [3], dense: [{ size: 1, activation: 'linear' }] }, 1));
const model = { name: 'm', version: 1 };
const fakeMsg = (n: number) => ({ seq: n }) as unknown as JsMsg;

function tableWith(devices: Record<string, number[]>): DeviceTable {
  const t = new DeviceTable(session, createCounters());
  for (const [d, seqs] of Object.entries(devices)) {
    for (const s of seqs) {
      const a = t.admit(d, s * 1000, s);
      if (a.kind === 'step') a.entry.state.buffer.fill(s + d.length); // stand-in for a step
    }
  }
  return t;
}

describe('partition feed: checkpoint, restore, fencing', () => {
  it('takes held readings and only its own devices, writes them in the local checkpoint format, and a new owner restores them', async () => {
    const kv = new FakeKv(new VirtualClock());
    const old = tableWith({ a: [0, 1, 2], b: [0, 1], other: [0] });
    const feed = new PartitionFeed(3);
    feed.devices.add('a');
    feed.devices.add('b');
    feed.held.push(fakeMsg(1), fakeMsg(2));
    const taken = feed.take(old.snapshot());
    expect(taken.held).toHaveLength(2);
    expect(feed.held).toHaveLength(0);
    expect(taken.devices.map((d) => d.device)).toEqual(['a', 'b']);
    expect(await feed.write(kv, partitionCheckpoint(model, old.stateSize, 1, taken.devices))).toBe('ok');
    const stored = await kv.get(checkpointKey(3));
    expect(decodeCheckpoint(stored!.value, 1 << 20).devices.map((d) => d.device)).toEqual(['a', 'b']);

    const fresh = tableWith({ other: [5] });
    const next = new PartitionFeed(3);
    expect(await next.restore(kv, fresh, model)).toEqual({ devices: 2, cold: null });
    expect(Array.from(fresh.peek('a')!.state.buffer)).toEqual(Array.from(old.peek('a')!.state.buffer));
    expect(fresh.peek('other')!.seqs.last).toBe(5); // another partition's device is left alone
    expect(fresh.admit('a', 2000, 2).kind).toBe('skip'); // the replay of a reading the checkpoint holds
    expect(fresh.admit('a', 3000, 3).kind).toBe('step');
  });

  it('a stale owner loses the compare-and-set once another wrote the checkpoint; a checkpoint of another model starts cold', async () => {
    const kv = new FakeKv(new VirtualClock());
    const t = tableWith({ a: [0] });
    const first = new PartitionFeed(0);
    first.devices.add('a');
    const bytes = partitionCheckpoint(model, t.stateSize, 1, t.snapshot());
    expect(await first.write(kv, bytes)).toBe('ok');
    const second = new PartitionFeed(0);
    await second.restore(kv, tableWith({}), model);
    expect(await second.write(kv, bytes)).toBe('ok');
    expect(await first.write(kv, bytes)).toBe('conflict');
    const third = new PartitionFeed(0);
    expect((await third.restore(kv, tableWith({}), { name: 'm', version: 2 })).cold).toMatch(/v1.*v2/);
  });

  it('stop forgets the partition devices and what was held; giveBack puts a failed checkpoint back in front', () => {
    const t = tableWith({ a: [0], z: [0] });
    const feed = new PartitionFeed(1);
    feed.devices.add('a');
    feed.held.push(fakeMsg(1));
    const taken = feed.take(t.snapshot());
    feed.held.push(fakeMsg(2));
    feed.giveBack(taken);
    expect(feed.held.map((m) => m.seq)).toEqual([1, 2]);
    feed.stop(t);
    expect(feed.held).toEqual([]);
    expect(t.has('a')).toBe(false);
    expect(t.has('z')).toBe(true);
  });
});
