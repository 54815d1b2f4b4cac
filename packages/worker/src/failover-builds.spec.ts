import { ErrorCode, KrakenError, MemoryLogger } from '@kraken/common';
import { MAX_FAILOVER_BUILDS } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import type { PrepareRequest, PrepareResult } from '@kraken/runtime';
import type { Deployer } from './deployer.js';
import { FailoverBuilds } from './failover-builds.js';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

/** A runtime whose builds finish when the test says so. */
class ScriptedRuntime implements Pick<Deployer, 'prepare' | 'forgetKept'> {
  readonly calls: PrepareRequest[] = [];
  readonly forgotten: string[] = [];
  private readonly finishers: ((outcome: Error | undefined) => void)[] = [];

  prepare(request: PrepareRequest): Promise<PrepareResult> {
    this.calls.push(request);
    return new Promise((resolve, reject) => {
      this.finishers.push((outcome) => {
        if (outcome === undefined) resolve({ deploymentId: request.deploymentId, commit: request.commit.padEnd(40, '0'), alreadyKept: false });
        else reject(outcome);
      });
    });
  }

  forgetKept(deploymentId: string): Promise<void> {
    this.forgotten.push(deploymentId);
    return Promise.resolve();
  }

  /** Ends the oldest build still running. */
  finish(outcome?: Error): void {
    const finisher = this.finishers.shift();
    if (finisher === undefined) throw new Error('no failover build is running');
    finisher(outcome);
  }
}

function setup(options: { mayStart?: () => boolean; deployer?: Pick<Deployer, 'prepare' | 'forgetKept' | 'runtime'> } = {}) {
  const runtime = new ScriptedRuntime();
  const builds = new FailoverBuilds({ deployer: options.deployer ?? runtime, mayStart: options.mayStart ?? (() => true), logger: new MemoryLogger() });
  return { runtime, builds };
}

const ask = (deploymentId: string, commit: string): PrepareRequest => ({ deploymentId, url: 'https://git.home.lan/alice/app.git', branch: 'main', commit });

describe('FailoverBuilds', () => {
  it('builds one at a time in the order asked, reporting building then ready with the full sha', async () => {
    const { runtime, builds } = setup();
    builds.request(ask('app-1', 'abc1234'));
    builds.request(ask('app-2', SHA_B));

    expect(runtime.calls.map((call) => call.deploymentId)).toEqual(['app-1']);
    expect(builds.list()).toEqual([
      { deploymentId: 'app-1', commit: 'abc1234', state: 'building' },
      { deploymentId: 'app-2', commit: SHA_B, state: 'building' },
    ]);

    runtime.finish();
    await eventuallyPasses(() => {
      expect(runtime.calls.map((call) => call.deploymentId)).toEqual(['app-1', 'app-2']);
    }, 3_000, 5);
    expect(builds.list()[0]).toEqual({ deploymentId: 'app-1', commit: 'abc1234'.padEnd(40, '0'), state: 'ready' });
  });

  it('starts nothing while a deploy needs the slots, and starts when poked once they are free', async () => {
    let deploying = true;
    const { runtime, builds } = setup({ mayStart: () => !deploying });
    builds.request(ask('app-1', SHA_A));
    expect(runtime.calls).toEqual([]);
    expect(builds.list()).toEqual([{ deploymentId: 'app-1', commit: SHA_A, state: 'building' }]);

    deploying = false;
    builds.poke();
    expect(runtime.calls.map((call) => call.commit)).toEqual([SHA_A]);
    runtime.finish();
    await eventuallyPasses(() => {
      expect(builds.list()[0]?.state).toBe('ready');
    }, 3_000, 5);
  });

  it('replaces a request still in line with a newer one for the same deployment', async () => {
    const { runtime, builds } = setup();
    builds.request(ask('busy', SHA_A));
    builds.request(ask('app-1', 'aaaa111'));
    builds.request(ask('app-1', 'bbbb222'));
    expect(builds.list()).toContainEqual({ deploymentId: 'app-1', commit: 'bbbb222', state: 'building' });

    runtime.finish();
    await eventuallyPasses(() => {
      expect(runtime.calls.map((call) => call.commit)).toEqual([SHA_A, 'bbbb222']);
    }, 3_000, 5);
  });

  it('reports a failed build with its reason, credentials removed, and builds it again when asked again', async () => {
    const { runtime, builds } = setup();
    builds.request(ask('app-1', SHA_A));
    runtime.finish(new KrakenError(ErrorCode.Internal, 'could not clone https://alice:s3cret@git.home.lan/alice/app.git: not found'));
    await eventuallyPasses(() => {
      expect(builds.list()[0]?.state).toBe('failed');
    }, 3_000, 5);
    const [failed] = builds.list();
    expect(failed?.message).toMatch(/could not clone/);
    expect(failed?.message).not.toContain('s3cret');

    // a ready or building one asked for again is left alone; a failed one is tried again
    builds.request(ask('app-1', SHA_A));
    expect(runtime.calls).toHaveLength(2);
    expect(builds.list()[0]?.state).toBe('building');
    builds.request(ask('app-1', SHA_A.slice(0, 7)));
    expect(runtime.calls).toHaveLength(2);
    runtime.finish();
  });

  it('reports a failure at once when the runtime cannot make failover builds', () => {
    const { builds } = setup({ deployer: { runtime: 'process' } });
    builds.request(ask('app-1', SHA_A));
    expect(builds.list()).toEqual([{ deploymentId: 'app-1', commit: SHA_A, state: 'failed', message: 'the process runtime on this node cannot make failover builds' }]);
  });

  it('drops an entry: one in line is not built, one building is not reported when it ends', async () => {
    const { runtime, builds } = setup();
    builds.request(ask('building', SHA_A));
    builds.request(ask('waiting', SHA_B));
    builds.drop('waiting');
    builds.drop('building');
    expect(builds.list()).toEqual([]);

    runtime.finish();
    builds.request(ask('later', SHA_B));
    await eventuallyPasses(() => {
      expect(runtime.calls.map((call) => call.deploymentId)).toEqual(['building', 'later']);
    }, 3_000, 5);
    expect(builds.list().map((entry) => entry.deploymentId)).toEqual(['later']);
  });

  it('forgets: the entry goes and the runtime frees what it keeps', async () => {
    const { runtime, builds } = setup();
    builds.request(ask('app-1', SHA_A));
    runtime.finish();
    await eventuallyPasses(() => {
      expect(builds.list()[0]?.state).toBe('ready');
    }, 3_000, 5);
    await builds.forget('app-1');
    expect(builds.list()).toEqual([]);
    expect(runtime.forgotten).toEqual(['app-1']);
  });

  it('reports at most MAX_FAILOVER_BUILDS entries', () => {
    const { builds } = setup({ mayStart: () => false });
    for (let index = 0; index < MAX_FAILOVER_BUILDS + 5; index++) builds.request(ask(`app-${index}`, SHA_A));
    expect(builds.list()).toHaveLength(MAX_FAILOVER_BUILDS);
  });

  it('starts no build once stopped', () => {
    const { runtime, builds } = setup({ mayStart: () => false });
    builds.request(ask('app-1', SHA_A));
    builds.stop();
    builds.poke();
    expect(runtime.calls).toEqual([]);
  });
});
