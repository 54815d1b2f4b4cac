import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { liveGroupMembers, signalGroup, waitForGroupExit } from './process-group.js';

describe('process groups', () => {
  it('finds every process of a detached group and kills them all together', async () => {
    // a shell with a child of its own, both in the new group
    const leader = spawn('sh', ['-c', 'sleep 30 & sleep 30; wait'], { detached: true, stdio: 'ignore' });
    await once(leader, 'spawn');
    const pgid = leader.pid!;
    const deadline = Date.now() + 5_000;
    while (liveGroupMembers(pgid).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(liveGroupMembers(pgid).length).toBe(3);

    signalGroup(pgid, 'SIGKILL');
    expect(await waitForGroupExit(pgid, 5_000)).toBe(true);
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it('treats signalling a group that is gone as done', () => {
    expect(() => {
      signalGroup(2 ** 22 + 12345, 'SIGTERM');
    }).not.toThrow();
  });
});
