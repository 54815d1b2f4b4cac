import { ErrorCode } from '@kraken/common';
import type { Candidate } from '@kraken/discovery';
import { decideRole, roleSummary } from './decide-role.js';

const found = (url: string, source: 'mdns' | 'scan', clusterId?: string): Candidate => ({
  url,
  source,
  clusterId,
  role: source === 'mdns' ? 'orchestrator' : undefined,
  priority: undefined,
  protocolVersion: '1',
  compatible: true,
});
const urls = (role: Awaited<ReturnType<typeof decideRole>>) => (role.kind === 'join' ? role.candidates.map((c) => c.url) : []);

describe('decideRole', () => {
  it('joins only an explicit --join URL, without asking discovery', async () => {
    const mdns = jest.fn(() => Promise.resolve([found('http://10.0.0.9:4000', 'mdns')]));
    await expect(decideRole({ join: 'http://10.0.0.5:4000', priority: 0 }, { mdns })).resolves.toEqual({
      kind: 'join',
      candidates: [
        {
          url: 'http://10.0.0.5:4000',
          source: 'join',
          clusterId: undefined,
          role: undefined,
          priority: undefined,
          protocolVersion: undefined,
          compatible: true,
        },
      ],
    });
    expect(mdns).not.toHaveBeenCalled();
  });

  it('lists every orchestrator mDNS and the scan found, mDNS ones first, each URL once', async () => {
    const role = await decideRole(
      { priority: 0 },
      {
        mdns: () => Promise.resolve([found('http://10.0.0.7:4000', 'mdns', 'a'), found('http://10.0.0.6:4000', 'mdns', 'b')]),
        scan: () => Promise.resolve([found('http://10.0.0.6:4000', 'scan', 'b'), found('http://10.0.0.8:4000', 'scan')]),
      },
    );
    expect(role.kind).toBe('join');
    expect(urls(role)).toEqual(['http://10.0.0.7:4000', 'http://10.0.0.6:4000', 'http://10.0.0.8:4000']);
  });

  it('joins what the subnet scan found when mDNS finds nothing', async () => {
    const role = await decideRole(
      { priority: 1 },
      { mdns: () => Promise.resolve([]), scan: () => Promise.resolve([found('http://10.0.0.7:4000', 'scan')]) },
    );
    expect(urls(role)).toEqual(['http://10.0.0.7:4000']);
  });

  it('leads when nothing is found and its priority allows it', async () => {
    await expect(decideRole({ priority: 0 }, { mdns: () => Promise.resolve([]) })).resolves.toEqual({
      kind: 'lead',
      passedOver: [],
    });
    await expect(decideRole({ priority: 1 }, {})).resolves.toEqual({ kind: 'lead', passedOver: [] });
  });

  it('founds its own cluster when it has no join token for the orchestrators it found (a second class on the LAN)', async () => {
    const other = found('http://10.0.0.7:4000', 'mdns', 'class-a');
    await expect(decideRole({ priority: 0, hasJoinToken: false }, { mdns: () => Promise.resolve([other]) })).resolves.toEqual({
      kind: 'lead',
      passedOver: [other],
    });
  });

  it('without a join token, joins the cluster it led before when an orchestrator of it is found (it took over meanwhile)', async () => {
    const ours = found('http://10.0.0.8:4000', 'mdns', 'ours');
    const other = found('http://10.0.0.7:4000', 'mdns', 'class-a');
    await expect(decideRole({ priority: 0, hasJoinToken: false, ownClusterId: 'ours' }, { mdns: () => Promise.resolve([other, ours]) })).resolves.toEqual({
      kind: 'join',
      candidates: [ours],
    });
    await expect(decideRole({ priority: 0, hasJoinToken: false, ownClusterId: 'ours' }, { mdns: () => Promise.resolve([other]) })).resolves.toEqual({
      kind: 'lead',
      passedOver: [other],
    });
  });

  it('without a join token, still tries to join when it may never lead, so the missing token is reported', async () => {
    const role = await decideRole(
      { priority: 2, hasJoinToken: false },
      { mdns: () => Promise.resolve([found('http://10.0.0.7:4000', 'mdns')]) },
    );
    expect(urls(role)).toEqual(['http://10.0.0.7:4000']);
  });

  it('refuses to lead with priority 2 or more, saying what to do', async () => {
    await expect(decideRole({ priority: 2 }, {})).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringMatching(/--join/) as unknown,
    });
  });
});

describe('decideRole for agents that never lead', () => {
  it('keeps looking until an orchestrator appears', async () => {
    let calls = 0;
    const rounds: number[] = [];
    const role = await decideRole(
      { priority: 2, waitForLeaderMs: 60_000, minRoundMs: 1, onStillLooking: (round) => rounds.push(round) },
      { mdns: () => Promise.resolve(++calls >= 3 ? [found('http://10.0.0.6:4000', 'mdns')] : []) },
    );
    expect(urls(role)).toEqual(['http://10.0.0.6:4000']);
    expect(rounds).toEqual([1, 2]);
  });
});

describe('decideRole for an agent that just lost the lease', () => {
  it('looks for the agent that took over before leading, and leads when none appears in time', async () => {
    const rounds: number[] = [];
    const role = await decideRole(
      { priority: 1, followFirstMs: 300, minRoundMs: 50, onStillLooking: (round) => rounds.push(round) },
      // cut off: the finders answer at once, with nothing
      { mdns: () => Promise.resolve([]) },
    );
    expect(role).toEqual({ kind: 'lead', passedOver: [] });
    // rounds of at least minRoundMs, not a busy loop
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(rounds.length).toBeLessThanOrEqual(7);
  });

  it('follows the agent that took over once it is found', async () => {
    let calls = 0;
    const role = await decideRole(
      { priority: 1, followFirstMs: 60_000, minRoundMs: 1 },
      { mdns: () => Promise.resolve(++calls >= 3 ? [found('http://10.0.0.7:4000', 'mdns')] : []) },
    );
    expect(urls(role)).toEqual(['http://10.0.0.7:4000']);
  });
});

describe('decideRole for a machine of a cluster that finds no leader', () => {
  it('tries its --join URL first, then what discovery finds: the machine it names may be the one that is gone', async () => {
    const role = await decideRole(
      { join: 'http://10.0.0.5:4000', priority: 1, lookBeyondJoin: true },
      { mdns: () => Promise.resolve([found('http://10.0.0.7:4000', 'mdns', 'ours'), found('http://10.0.0.5:4000', 'mdns', 'ours')]) },
    );
    expect(urls(role)).toEqual(['http://10.0.0.5:4000', 'http://10.0.0.7:4000']);
  });

  it('competes for the lease once told to, even with --join, and says so', async () => {
    const mdns = jest.fn(() => Promise.resolve([found('http://10.0.0.7:4000', 'mdns')]));
    const role = await decideRole({ join: 'http://10.0.0.5:4000', priority: 1, competeForLease: true }, { mdns });
    expect(role).toEqual({ kind: 'lead', passedOver: [], competing: true });
    expect(mdns).not.toHaveBeenCalled();
    expect(roleSummary(role).message).toMatch(/competes for the lease/);
  });

  it('never competes with priority 2 or more', async () => {
    const role = await decideRole({ join: 'http://10.0.0.5:4000', priority: 2, competeForLease: true }, {});
    expect(role.kind).toBe('join');
  });
});

describe('roleSummary', () => {
  it('says which orchestrators it will try, which it passed over, or that it found none', () => {
    const a = found('http://10.0.0.7:4000', 'mdns', 'class-a');
    const scanned = found('http://10.0.0.8:4000', 'scan');
    expect(roleSummary({ kind: 'join', candidates: [a, scanned] })).toEqual({
      message: 'orchestrators to try',
      fields: { candidates: ['http://10.0.0.7:4000 (cluster class-a)', 'http://10.0.0.8:4000'] },
    });
    expect(roleSummary({ kind: 'lead', passedOver: [a] })).toEqual({
      message: 'leading a new cluster: without --join-token this agent joins none of the orchestrators found',
      fields: { passedOver: ['http://10.0.0.7:4000 (cluster class-a)'] },
    });
    expect(roleSummary({ kind: 'lead', passedOver: [] })).toEqual({
      message: 'no orchestrator found: leading this cluster',
      fields: {},
    });
  });
});
