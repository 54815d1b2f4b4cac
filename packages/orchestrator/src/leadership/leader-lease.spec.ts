import { MemoryBroker } from '@kraken/broker';
import { eventually } from '@kraken/testing';
import { DeliveryClass, MessageType, createMessage } from '@kraken/messages';
import { LEADERSHIP_QUEUE, LeaderLease } from './leader-lease.js';

// Small timings, real timers: ticks every 25 ms, silence 200 ms (room for a busy test machine), lease 500 ms.
const timings = { tickIntervalMs: 25, silenceMs: 200, leaseMs: 500 };

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

  it('stops holding the lease at once when its clock jumps past silenceMs (a frozen process waking), until a fresh tick is heard', async () => {
    let frozenFor = 0;
    const clock = { now: () => Date.now() + frozenFor };
    const a = await LeaderLease.start({ broker, nodeId: 'a', ...timings, clock });
    leases.push(a);
    await eventually(() => a.leading, 5_000, 'a leading');
    expect(a.holds()).toBe(true);
    frozenFor = 10_000;
    // ticks it sent before the freeze, read now, are dated when they were sent: they do not renew it
    expect(a.holds()).toBe(false);
    // only a tick sent after it woke, heard as the active consumer, does
    await eventually(() => a.holds(), 5_000, 'a holding the lease again on a fresh tick');
  });

  describe('after a stall of its own process', () => {
    // a longer lease than above, so a stall can outlast silenceMs and still leave room before it
    const stallTimings = { tickIntervalMs: 25, silenceMs: 200, leaseMs: 1_000 };
    const blockEventLoop = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // a synchronous job, as a leader adopting many apps runs
      }
    };
    const leader = async () => {
      const lease = await LeaderLease.start({ broker, nodeId: 'a', ...stallTimings });
      leases.push(lease);
      await eventually(() => lease.leading, 5_000, 'a leading');
      const followed: string[] = [];
      lease.on('following', (why) => followed.push(why));
      return { lease, followed };
    };

    it('keeps leading through a stall longer than silenceMs once a tick sent after it is heard, holding nothing meanwhile', async () => {
      const { lease, followed } = await leader();
      blockEventLoop(stallTimings.silenceMs * 2);
      expect(lease.holds()).toBe(false);
      await eventually(() => lease.holds(), 5_000, 'a holding the lease again on a fresh tick');
      await new Promise((resolve) => setTimeout(resolve, stallTimings.leaseMs));
      expect({ leading: lease.leading, followed }).toEqual({ leading: true, followed: [] });
    });

    it('stops leading when the broker stays silent after the stall', async () => {
      const { lease, followed } = await leader();
      await broker.close();
      blockEventLoop(stallTimings.silenceMs * 2);
      await eventually(() => !lease.leading, 5_000, 'a stepping down');
      expect(followed).toEqual([expect.stringMatching(/^no lease tick heard for \d+ ms$/)]);
    });

    it('stops leading when the stall itself outlasts what a rival needs to take the lease', async () => {
      const { followed } = await leader();
      blockEventLoop(stallTimings.leaseMs + 100);
      await eventually(() => followed.length > 0, 5_000, 'a stepping down');
      expect(followed).toEqual([expect.stringMatching(/^no lease tick heard for \d+ ms$/)]);
    });
  });

  it("does not count its own old ticks handed over from a former active consumer's backlog: it still waits leaseMs", async () => {
    await broker.declareQueue(LEADERSHIP_QUEUE, { class: DeliveryClass.Durable, singleActiveConsumer: true });
    await broker.publish(LEADERSHIP_QUEUE, createMessage(MessageType.LeaseTick, { nodeId: 'b' }, { from: 'b', at: new Date(Date.now() - 10_000) }));
    const started = Date.now();
    const b = await candidate('b');
    await eventually(() => b.leading, 5_000, 'b leading');
    expect(Date.now() - started).toBeGreaterThanOrEqual(timings.leaseMs);
  });

  it('refuses timings that would let two lead at once', async () => {
    await expect(LeaderLease.start({ broker, nodeId: 'a', tickIntervalMs: 25, silenceMs: 600, leaseMs: 500 })).rejects.toThrow(/silenceMs: must be shorter than leaseMs/);
  });
});
