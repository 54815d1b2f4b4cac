import { MemoryBroker } from '@kraken/broker';
import { KrakenError, ErrorCode, MemoryLogger } from '@kraken/common';
import { DeploymentStatus } from '@kraken/messages';
import { eventually, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { FakeClock } from '../../test/fake-clock.js';
import { FakeWorker } from '../../test/fake-worker.js';
import { deploymentRecord } from '../../test/fixtures.js';
import type { ResolveBranchHead } from '../git/git-head.js';
import { compileOrchestratorOptions } from '../options.js';
import { Orchestrator } from '../orchestrator.js';
import { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentRecord } from '../store/records.js';
import { BranchWatcher } from './branch-watcher.js';
import { DataKey } from '../data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

const queues = compileOrchestratorOptions().queues;
const SRC = 'https://git.home.lan/alice/todo-api.git';
const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);
const COMMIT_C = 'c'.repeat(40);
const MINUTE = 60_000;

/** A remote whose branch heads the test sets, and that records every ls-remote. */
class FakeRemote {
  heads = new Map<string, string | Error>();
  calls: string[] = [];

  readonly resolve: ResolveBranchHead = (srcUrl, branch) => {
    this.calls.push(`${srcUrl}#${branch}`);
    const head = this.heads.get(`${srcUrl}#${branch}`);
    return head instanceof Error ? Promise.reject(head) : Promise.resolve(head);
  };

  set(head: string | Error, srcUrl = SRC, branch = 'main'): void {
    this.heads.set(`${srcUrl}#${branch}`, head);
  }
}

describe('Orchestrator with branch watching', () => {
  let dir: TempDir;
  let clock: FakeClock;
  let broker: MemoryBroker;
  let store: OrchestratorStore;
  let logger: MemoryLogger;
  let worker: FakeWorker;
  let remote: FakeRemote;
  let orchestrator: Orchestrator;

  async function start(watchIntervalMs?: number): Promise<void> {
    orchestrator = await Orchestrator.create({
      broker,
      store,
      nodeId: 'leader',
      logger,
      clock,
      resolveBranchHead: remote.resolve,
      options: { tickIntervalMs: 0, ...(watchIntervalMs === undefined ? {} : { watchIntervalMs }) },
    });
    await worker.beat();
    await eventually(() => store.nodes.get('node-a'), 5000, 'heartbeat', 10);
  }

  async function runningWatched(commit = COMMIT_A): Promise<DeploymentRecord> {
    worker.commit = commit;
    const created = await orchestrator.createDeployment({ srcUrl: SRC, branch: 'main', watch: true });
    return eventually(() => {
      const d = store.deployments.get(created.id);
      return d?.status === DeploymentStatus.Running && d.commit === commit ? d : undefined;
    }, 5000, `Running at ${commit}`, 10);
  }

  /** Moves the clock, heartbeats (so the node stays alive) and runs one tick, branch watching included. */
  async function after(ms: number): Promise<void> {
    clock.advance(ms);
    await worker.beat();
    const now = new Date(clock.now()).toISOString();
    await eventually(() => store.nodes.get('node-a')?.updateTime === now, 5000, 'heartbeat', 10);
    await orchestrator.tick();
  }

  beforeEach(async () => {
    dir = await tempDir('kraken-watch-');
    clock = new FakeClock();
    broker = new MemoryBroker();
    logger = new MemoryLogger();
    store = OrchestratorStore.open({ dataKey, dataDir: dir.path, clock });
    remote = new FakeRemote();
    worker = await FakeWorker.start({ broker, nodeId: 'node-a', queues });
  });

  afterEach(async () => {
    await orchestrator.close();
    await broker.close();
    store.close();
    await dir.remove();
  });

  it('redeploys when the branch head moves, once an interval has passed, and records the new commit when Running', async () => {
    await start();
    const deployment = await runningWatched(COMMIT_A);
    remote.set(COMMIT_A);
    await after(MINUTE);
    expect(remote.calls).toEqual([`${SRC}#main`]);
    expect(worker.requests()).toHaveLength(1);

    remote.set(COMMIT_B);
    await after(MINUTE / 2);
    expect(remote.calls).toHaveLength(1); // not due yet

    worker.commit = COMMIT_B;
    await after(MINUTE / 2);
    expect(remote.calls).toHaveLength(2);
    await eventually(() => store.deployments.get(deployment.id)?.commit === COMMIT_B, 5000, 'Running at the new head', 10);
    expect(worker.requests()).toHaveLength(2);
    expect(worker.requests()[1]?.body.attempt).toBe(2);
    expect(store.deployments.history(deployment.id).map((h) => h.status)).toContain(DeploymentStatus.UpdateRequested);
    expect(orchestrator.counters.watchRedeploys).toBe(1);
    expect(logger.records.find((r) => r.message === 'branch head moved; redeploying')?.fields).toMatchObject({
      deploymentId: deployment.id,
      from: COMMIT_A,
      to: COMMIT_B,
    });

    await after(MINUTE);
    expect(worker.requests()).toHaveLength(2); // the new head is what runs now
  });

  it('leaves deployments that are not watched alone', async () => {
    await start();
    worker.commit = COMMIT_A;
    const created = await orchestrator.createDeployment({ srcUrl: SRC, branch: 'main' });
    await eventually(() => store.deployments.get(created.id)?.status === DeploymentStatus.Running, 5000, 'Running', 10);
    remote.set(COMMIT_B);
    await after(MINUTE);
    expect(remote.calls).toEqual([]);
    expect(worker.requests()).toHaveLength(1);
  });

  it('logs a failing ls-remote and tries again next interval, never throwing', async () => {
    await start();
    const deployment = await runningWatched(COMMIT_A);
    remote.set(new KrakenError(ErrorCode.Unavailable, 'git ls-remote failed: could not resolve host'));
    await after(MINUTE);
    await after(MINUTE);
    expect(remote.calls).toHaveLength(2);
    expect(orchestrator.counters.watchFailures).toBe(2);
    expect(logger.records.filter((r) => r.level === 'warn' && /could not read the head/.test(r.message))).toHaveLength(2);

    remote.set(COMMIT_B);
    await after(MINUTE);
    await eventually(() => worker.requests().length === 2, 5000, 'the redeploy once the remote answers', 10);
    expect(store.deployments.get(deployment.id)?.status).not.toBe(DeploymentStatus.Errored);
  });

  it('redeploys a failed deployment when a new commit arrives, but never twice for the same commit', async () => {
    await start();
    const deployment = await runningWatched(COMMIT_A);
    await worker.report(deployment.id, DeploymentStatus.Errored, { message: 'crashed' });
    await eventually(() => store.deployments.get(deployment.id)?.status === DeploymentStatus.Errored, 5000, 'Errored', 10);

    remote.set(COMMIT_A);
    await after(MINUTE);
    expect(worker.requests()).toHaveLength(1); // same commit: a redeploy would crash again

    // the fix is pushed, but its build fails too
    worker.answering = false;
    remote.set(COMMIT_B);
    await after(MINUTE);
    await eventually(() => worker.requests().length === 2, 5000, 'redeploy of the fix', 10);
    await worker.report(deployment.id, DeploymentStatus.Errored, { message: 'build failed' });
    await eventually(() => store.deployments.get(deployment.id)?.status === DeploymentStatus.Errored, 5000, 'Errored again', 10);
    await after(MINUTE);
    expect(worker.requests()).toHaveLength(2);

    worker.answering = true;
    worker.commit = COMMIT_C;
    remote.set(COMMIT_C);
    await after(MINUTE);
    await eventually(() => store.deployments.get(deployment.id)?.commit === COMMIT_C, 5000, 'Running at the second fix', 10);
    expect(orchestrator.counters.watchRedeploys).toBe(2);
  });

  it('does not watch with watchIntervalMs 0', async () => {
    await start(0);
    await runningWatched(COMMIT_A);
    remote.set(COMMIT_B);
    await after(10 * MINUTE);
    expect(remote.calls).toEqual([]);
  });
});

describe('BranchWatcher', () => {
  it('refuses a negative or fractional watchIntervalMs, naming the option', () => {
    expect(() => compileOrchestratorOptions({ watchIntervalMs: -1 })).toThrow(/watchIntervalMs must be an integer >= 0/);
    expect(() => compileOrchestratorOptions({ watchIntervalMs: 1.5 })).toThrow(/watchIntervalMs/);
  });

  function record(id: string, patch: Partial<DeploymentRecord> = {}): DeploymentRecord {
    return deploymentRecord({ id, srcUrl: SRC, commit: COMMIT_A, watch: true, ...patch });
  }

  function watcher(deployments: DeploymentRecord[], resolveBranchHead: ResolveBranchHead, clock = new FakeClock()) {
    const redeployed: string[] = [];
    const instance = new BranchWatcher({
      resolveBranchHead,
      clock,
      intervalMs: MINUTE,
      logger: new MemoryLogger(),
      deployments: () => deployments,
      getDeployment: (id) => deployments.find((d) => d.id === id),
      redeploy: (id) => {
        redeployed.push(id);
        return Promise.resolve();
      },
    });
    return { instance, redeployed, clock };
  }

  it('asks each repository and branch once per round, and redeploys every deployment of a moved branch', async () => {
    const remote = new FakeRemote();
    remote.set(COMMIT_B);
    remote.set(COMMIT_A, SRC, 'dev');
    const { instance, redeployed, clock } = watcher(
      [
        record('one'),
        record('two'),
        record('three', { branch: 'dev' }),
        record('building', { status: DeploymentStatus.BuildingDeployment }),
        record('abbreviated', { commit: COMMIT_B.slice(0, 7) }),
      ],
      remote.resolve,
    );
    clock.advance(MINUTE);
    await instance.poll();
    expect(remote.calls.sort()).toEqual([`${SRC}#dev`, `${SRC}#main`]);
    expect(redeployed).toEqual(['one', 'two']);
  });

  it('runs one round at a time, and close() cancels the ls-remote in flight', async () => {
    let signal: AbortSignal | undefined;
    let calls = 0;
    const hanging: ResolveBranchHead = (_url, _branch, options) => {
      calls += 1;
      signal = options?.signal;
      return new Promise((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => {
          reject(new Error('cancelled'));
        });
      });
    };
    const { instance, redeployed, clock } = watcher([record('one')], hanging);
    clock.advance(MINUTE);
    const round = instance.poll();
    clock.advance(MINUTE);
    expect(instance.poll()).toBe(round);
    expect(calls).toBe(1);
    await instance.close();
    await round;
    expect(signal?.aborted).toBe(true);
    expect(redeployed).toEqual([]);
    clock.advance(MINUTE);
    await instance.poll();
    expect(calls).toBe(1);
  });
});
