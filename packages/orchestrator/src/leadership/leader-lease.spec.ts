import { MemoryBroker } from '@kraken/broker';
import { eventually } from '@kraken/testing';
import { LeaderLease } from './leader-lease.js';

// Small timings, real timers: ticks every 20 ms, silence 60 ms, lease 200 ms.
const timings = { tickIntervalMs: 20, silenceMs: 60, leaseMs: 200 };

describe('LeaderLease', () => {
  let broker: MemoryBroker;
  const leases: LeaderLease[] = [];
  const candidate = async (nodeId: string) => {
    const lease = await LeaderLease.start({ broker, nodeId, ...timings });
    leases.push(lease);
    return lease;
  };

  beforeEach(() => {
    broker = new MemoryBroker();
  });

  afterEach(async () => {
    for (const lease of leases.splice(0)) await lease.stop();
    await broker.close();
  });

  it('makes a lone candidate lead once it held the lease for leaseMs, not before', async () => {
    const started = Date.now();
    const lease = await candidate('a');
    expect(lease.leading).toBe(false);
    await eventually(() => lease.leading, 5_000, 'a leading');
    expect(Date.now() - started).toBeGreaterThanOrEqual(timings.leaseMs);
  });

  it('lets one of two candidates lead; when it stops, the other leads after a lease of its own', async () => {
    const a = await candidate('a');
    const b = await candidate('b');
    await eventually(() => a.leading, 5_000, 'a leading');
    const followed: string[] = [];
    a.on('following', (why) => followed.push(why));
    // b never leads while a does
    await new Promise((resolve) => setTimeout(resolve, timings.leaseMs * 2));
    expect(b.leading).toBe(false);
    await a.stop();
    expect(followed).toEqual(['stopped']);
    expect(b.leading).toBe(false);
    await eventually(() => b.leading, 5_000, 'b leading');
  });

  it('stops leading when it hears no tick for silenceMs (its broker went away)', async () => {
    const a = await candidate('a');
    await eventually(() => a.leading, 5_000, 'a leading');
    const why: string[] = [];
    a.on('following', (reason) => why.push(reason));
    await broker.close();
    await eventually(() => !a.leading, 5_000, 'a stepping down');
    expect(why).toEqual([`no lease tick heard for ${timings.silenceMs} ms`]);
  });

  it('refuses timings that would let two lead at once', async () => {
    await expect(LeaderLease.start({ broker, nodeId: 'a', tickIntervalMs: 20, silenceMs: 300, leaseMs: 200 })).rejects.toThrow(/silenceMs: must be shorter than leaseMs/);
  });
});
