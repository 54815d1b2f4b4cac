import { ErrorCode } from '@kraken/common';
import { DeploymentStatus } from '@kraken/messages';
import { thrown } from '@kraken/testing';
import type { DeploymentRecord } from '../store/records.js';
import type { ReleaseRecord } from './release-record.js';
import { ReleaseResult } from './release-record.js';
import { keptCommits, planRollback } from './rollback.js';

const [c1, c2, c3, c4] = ['1111111aaa', '2222222bbb', '3333333ccc', '4444444ddd'];

function release(number: number, commit: string | null, result: ReleaseRecord['result']): ReleaseRecord {
  return { deploymentId: 'blog-1', number, commit, trigger: 'redeploy', startedAt: '2026-12-06T00:00:00.000Z', endedAt: null, result, reason: null };
}

function running(commit: string, patch: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return { id: 'blog-1', status: DeploymentStatus.Running, commit, removedAt: null, ...patch } as DeploymentRecord;
}

const history = [
  release(1, c1, ReleaseResult.Succeeded),
  release(2, c2, ReleaseResult.Succeeded),
  release(3, null, ReleaseResult.Failed),
  release(4, c2, ReleaseResult.Succeeded), // a restart with other settings: the same commit again
  release(5, c3, ReleaseResult.Succeeded),
];

describe('keptCommits', () => {
  it('lists the distinct commits of the last three successful releases, newest first', () => {
    expect(keptCommits(history)).toEqual([c3, c2, c1]);
    expect(keptCommits([...history, release(6, c4, ReleaseResult.Succeeded)])).toEqual([c4, c3, c2]);
  });
});

describe('planRollback', () => {
  it('picks the newest kept commit before the running one by default', () => {
    expect(planRollback(running(c3), history)).toEqual({ commit: c2, trigger: 'rollback to 2222222', reason: 'rolling back to 2222222' });
  });

  it('picks a kept commit named by an abbreviation', () => {
    expect(planRollback(running(c3), history, '1111').commit).toBe(c1);
  });

  it('refuses a deployment that is not running, or has nothing earlier', () => {
    expect(thrown(() => planRollback(running(c3, { status: DeploymentStatus.Errored }), history))).toMatchObject({
      code: ErrorCode.Conflict,
      message: 'deployment blog-1 is Errored; only a RUNNING deployment can be rolled back (redeploy it instead)',
    });
    expect(thrown(() => planRollback(running(c1), [release(1, c1, ReleaseResult.Succeeded)]))).toMatchObject({
      code: ErrorCode.Conflict,
      message: 'deployment blog-1 has no earlier successful release to roll back to',
    });
  });

  it('refuses the running commit, a commit not kept, and one that is not hex', () => {
    expect(thrown(() => planRollback(running(c3), history, c3))).toMatchObject({ code: ErrorCode.Conflict, message: 'deployment blog-1 already runs 3333333' });
    expect(thrown(() => planRollback(running(c4), [...history, release(6, c4, ReleaseResult.Succeeded)], c1))).toMatchObject({
      code: ErrorCode.NotFound,
      message: 'commit 1111111aaa is not one of the versions kept for a rollback of deployment blog-1 (the last 3 successful releases; earlier ones: 3333333, 2222222); to deploy another commit, redeploy',
    });
    expect(thrown(() => planRollback(running(c3), history, 'main'))).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'commit' } });
  });
});
