import { ErrorCode } from '@kraken/common';
import { decideRole } from './decide-role.js';

describe('decideRole', () => {
  it('joins an explicit --join URL without asking discovery', async () => {
    const mdns = jest.fn(() => Promise.resolve('http://10.0.0.9:4000'));
    await expect(decideRole({ join: 'http://10.0.0.5:4000', priority: 0 }, { mdns })).resolves.toEqual({
      kind: 'join',
      url: 'http://10.0.0.5:4000',
      source: 'join',
    });
    expect(mdns).not.toHaveBeenCalled();
  });

  it('joins what mDNS finds before trying a subnet scan', async () => {
    const scan = jest.fn(() => Promise.resolve('http://10.0.0.7:4000'));
    await expect(decideRole({ priority: 0 }, { mdns: () => Promise.resolve('http://10.0.0.6:4000'), scan })).resolves.toMatchObject({
      url: 'http://10.0.0.6:4000',
      source: 'mdns',
    });
    expect(scan).not.toHaveBeenCalled();
  });

  it('falls back to the subnet scan when mDNS finds nothing', async () => {
    await expect(
      decideRole({ priority: 1 }, { mdns: () => Promise.resolve(undefined), scan: () => Promise.resolve('http://10.0.0.7:4000') }),
    ).resolves.toMatchObject({ kind: 'join', source: 'scan' });
  });

  it('leads when nothing is found and its priority allows it', async () => {
    await expect(decideRole({ priority: 0 }, { mdns: () => Promise.resolve(undefined) })).resolves.toEqual({ kind: 'lead' });
    await expect(decideRole({ priority: 1 }, {})).resolves.toEqual({ kind: 'lead' });
  });

  it('refuses to lead with priority 2 or more, saying what to do', async () => {
    await expect(decideRole({ priority: 2 }, {})).rejects.toMatchObject({ code: ErrorCode.Unavailable, message: expect.stringMatching(/--join/) as unknown });
  });
});

describe('decideRole for agents that never lead', () => {
  it('keeps looking until an orchestrator appears', async () => {
    let calls = 0;
    const rounds: number[] = [];
    const role = await decideRole(
      { priority: 2, waitForLeaderMs: 60_000, onStillLooking: (round) => rounds.push(round) },
      { mdns: () => Promise.resolve(++calls >= 3 ? 'http://10.0.0.6:4000' : undefined) },
    );
    expect(role).toEqual({ kind: 'join', url: 'http://10.0.0.6:4000', source: 'mdns' });
    expect(rounds).toEqual([1, 2]);
  });
});
