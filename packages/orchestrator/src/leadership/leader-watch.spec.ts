import { MemoryBroker } from '@kraken/broker';
import { eventually } from '@kraken/testing';
import { LeaderBeacon } from './leader-beacon.js';
import type { KnownLeader } from './leader-watch.js';
import { LeaderWatch } from './leader-watch.js';

describe('LeaderWatch and LeaderBeacon', () => {
  let broker: MemoryBroker;
  let now: number;
  const clock = { now: () => now };
  const watches: LeaderWatch[] = [];
  const watch = async (options: Partial<Parameters<typeof LeaderWatch.start>[0]> = {}) => {
    const started = await LeaderWatch.start({ broker, clock, staleAfterMs: 5_000, ...options });
    watches.push(started);
    return started;
  };
  /** One beacon, as a leader sends at once when it starts. */
  const beacon = (nodeId: string, epoch: number, apiUrl = `http://${nodeId}.lan:4000`) => {
    LeaderBeacon.start({ broker, nodeId, apiUrl, epoch, intervalMs: 60_000 }).stop();
  };

  beforeEach(() => {
    broker = new MemoryBroker();
    now = 1_000_000;
  });

  afterEach(async () => {
    for (const started of watches.splice(0)) await started.stop();
    await broker.close();
  });

  it('knows the leader it joined before any beacon, then learns its term from the first', async () => {
    const watched = await watch({ joined: { nodeId: 'a', apiUrl: 'http://a.lan:4000' } });
    expect(watched.leader).toEqual({ nodeId: 'a', apiUrl: 'http://a.lan:4000', epoch: undefined, heardAt: undefined });
    expect(watched.silentForMs()).toBeUndefined();
    beacon('a', 3);
    await eventually(() => watched.leader?.epoch === 3, 5_000, 'the term of a');
    now += 1_500;
    expect(watched.silentForMs()).toBe(1_500);
  });

  it('follows a takeover: a leader of a newer term replaces the known one, and says who it replaced', async () => {
    const watched = await watch();
    const changes: [string, string | undefined][] = [];
    watched.on('changed', (leader: KnownLeader, previous: KnownLeader | undefined) => changes.push([leader.nodeId, previous?.nodeId]));
    beacon('a', 3);
    await eventually(() => watched.leader?.nodeId === 'a', 5_000, 'a known');
    beacon('b', 4, 'http://10.0.0.2:4000');
    await eventually(() => watched.leader?.nodeId === 'b', 5_000, 'b known');
    expect(watched.leader).toEqual({ nodeId: 'b', apiUrl: 'http://10.0.0.2:4000', epoch: 4, heardAt: now });
    expect(changes).toEqual([
      ['a', undefined],
      ['b', 'a'],
    ]);
  });

  it("ignores a former leader's beacon while the known leader is heard, and takes it once the known one went silent", async () => {
    const watched = await watch();
    const known: string[] = [];
    watched.on('changed', (leader: KnownLeader) => known.push(leader.nodeId));
    beacon('b', 4);
    await eventually(() => watched.leader?.nodeId === 'b', 5_000, 'b known');
    beacon('a', 3);
    // the same broker delivers in order: once a later beacon of b arrived, a's was handled before it
    now += 1_000;
    beacon('b', 4);
    await eventually(() => watched.leader?.heardAt === now, 5_000, "b's second beacon");
    expect(known).toEqual(['b']);

    // a cluster whose store was lost counts its terms again: after b's silence, a of term 1 is believed
    now += 6_000;
    beacon('a', 1);
    await eventually(() => watched.leader?.nodeId === 'a', 5_000, 'a known after b went silent');
    expect(watched.leader?.epoch).toBe(1);
    expect(known).toEqual(['b', 'a']);
  });

  it("passes on the broker's endpoints, and tells when they change", async () => {
    const watched = await watch();
    const seen: (readonly string[] | undefined)[] = [];
    watched.on('changed', (leader: KnownLeader) => seen.push(leader.brokerEndpoints));
    let endpoints = ['10.0.0.1:5673'];
    const beaconing = LeaderBeacon.start({ broker, nodeId: 'a', apiUrl: 'http://10.0.0.1:4000', epoch: 1, intervalMs: 20, brokerEndpoints: () => endpoints });
    try {
      await eventually(() => seen.length === 1, 5_000, 'the first endpoints');
      endpoints = ['10.0.0.1:5673', '10.0.0.2:5673'];
      await eventually(() => seen.length === 2, 5_000, 'the endpoints after a node joined');
    } finally {
      beaconing.stop();
    }
    expect(seen.slice(0, 2)).toEqual([['10.0.0.1:5673'], ['10.0.0.1:5673', '10.0.0.2:5673']]);
  });

  it('passes on whether anyone watches the cluster, and tells when that changes', async () => {
    const watched = await watch();
    const seen: (boolean | undefined)[] = [];
    watched.on('changed', (leader: KnownLeader) => seen.push(leader.watched));
    let looking = false;
    const beaconing = LeaderBeacon.start({ broker, nodeId: 'a', apiUrl: 'http://10.0.0.1:4000', epoch: 1, intervalMs: 20, watched: () => looking });
    try {
      await eventually(() => seen.length === 1, 5_000, 'the first beacon');
      looking = true;
      await eventually(() => seen.length === 2, 5_000, 'the beacon once someone looks');
    } finally {
      beaconing.stop();
    }
    expect(seen.slice(0, 2)).toEqual([false, true]);
  });

  it('says nothing while the leader does not hold the lease', async () => {
    const watched = await watch();
    let holds = false;
    const beaconing = LeaderBeacon.start({ broker, nodeId: 'a', apiUrl: 'http://10.0.0.1:4000', epoch: 1, intervalMs: 20, mayAct: () => holds });
    try {
      // ten intervals without the lease, then one with it: only that one is heard
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(watched.leader).toBeUndefined();
      holds = true;
      await eventually(() => watched.leader?.nodeId === 'a', 5_000, 'a heard once it holds the lease');
    } finally {
      beaconing.stop();
    }
  });

  it('refuses a beacon that could not tell anyone where the API is', () => {
    expect(() => LeaderBeacon.start({ broker, nodeId: 'a', apiUrl: 'not a url', epoch: 1 })).toThrow(/apiUrl/);
  });
});
