import { ErrorCode, KrakenError } from '@kraken/common';
import type { AppRunEvent, DeployProgress, DeployRequest, DeployResult, DeployStep, Deployment, FollowLogsOptions, LogFollower, LogLine, PrepareRequest, PrepareResult, RunWatcher, StatsSample } from '@kraken/runtime';
import type { Deployer } from '../src/deployer.js';

/** How one fake deploy behaves. */
export interface FakeScript {
  /** The manifest has a test command. @default true */
  hasTest?: boolean;
  /** Fail when this step starts, with `error` (a KrakenError unless `throwPlain`). */
  failAt?: DeployStep;
  error?: string;
  /** Throw a plain value instead of a KrakenError, as a buggy deployer would. */
  throwPlain?: boolean;
  /** Output lines reported during the build step. */
  buildLines?: string[];
  /** deploy() waits for this before the run step (to hold a slot in concurrency tests). */
  gate?: Promise<void>;
  /** deploy() stays inside `step`, once it started, until `until` settles (a long build, a hung test). */
  holdIn?: { step: DeployStep; until: Promise<void> };
  hostPort?: number;
  /** A replace of the same commit restarts from the build it has: only the run and ready steps, `buildReused` in the result. */
  reuseBuild?: boolean;
  /** A deploy with `fromKept` (a rollback, or a move to a node with a failover build) runs the kept build of the requested commit: only the run and ready steps, `fromKept` in the result. */
  kept?: boolean;
}

/** How one fake failover build behaves. */
export interface FakePrepareScript {
  /** prepare() rejects with this message. */
  error?: string;
  /** prepare() waits for this before it settles (a long build). */
  gate?: Promise<void>;
}

interface Follower {
  onLine: (line: LogLine) => void;
  end: () => void;
}

/** The Deployer contract in memory: records calls, runs scripted steps, keeps "containers" in a map. */
export class FakeDeployer implements Deployer {
  readonly deployCalls: DeployRequest[] = [];
  readonly stopCalls: string[] = [];
  readonly containers = new Map<string, Deployment>();
  readonly scripts = new Map<string, FakeScript>();
  readonly followers = new Map<string, Follower>();
  /** The options of every followLogs call, in order. */
  readonly followCalls: { deploymentId: string; options: FollowLogsOptions }[] = [];
  /** Lines the next follow of a deployment says its bounded resume skipped. */
  readonly skipOnFollow = new Map<string, number>();
  statsSample: StatsSample = { cpuPercent: 12.5, memMb: 40, maxMemMb: 512, imageSizeMb: 120 };
  /** Deploys running right now, and the most at once. */
  active = 0;
  maxActive = 0;
  /** Deploys in their clone, manifest or build step right now, and the most at once. */
  building = 0;
  maxBuilding = 0;

  readonly prepareCalls: PrepareRequest[] = [];
  readonly prepareScripts = new Map<string, FakePrepareScript>();
  readonly forgetCalls: string[] = [];
  /** The commit each deployment has a kept build of. */
  readonly kept = new Map<string, string>();
  /** Failover builds running right now. */
  preparing = 0;

  private readonly inBuild = new Set<string>();
  private readonly runListeners = new Set<(event: AppRunEvent) => void>();

  async deploy(request: DeployRequest): Promise<DeployResult> {
    this.deployCalls.push(request);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      return await this.run(request);
    } finally {
      this.active--;
      this.doneBuilding(request.deploymentId);
    }
  }

  /** Its build part ended: it moved on to test or run, or failed. */
  private doneBuilding(deploymentId: string): void {
    this.inBuild.delete(deploymentId);
    this.building = this.inBuild.size;
  }

  private async run(request: DeployRequest): Promise<DeployResult> {
    const { deploymentId } = request;
    const script = this.scripts.get(deploymentId) ?? {};
    const progress = (event: DeployProgress): void => request.onProgress?.(event);
    const fromBuild = script.reuseBuild === true && request.replace === true && this.containers.has(deploymentId);
    const fromKept = script.kept === true && request.fromKept === true;
    const steps: DeployStep[] = fromBuild || fromKept ? ['run', 'ready'] : ['clone', 'manifest', 'build', ...(script.hasTest === false ? [] : (['test'] as const)), 'run', 'ready'];
    for (const step of steps) {
      await Promise.resolve();
      if (step === 'run' && script.gate) await script.gate;
      progress({ kind: 'start', deploymentId, step, at: new Date() });
      if (step === 'clone') {
        this.inBuild.add(deploymentId);
        this.building = this.inBuild.size;
        this.maxBuilding = Math.max(this.maxBuilding, this.building);
      }
      if (step === 'test' || step === 'run') this.doneBuilding(deploymentId);
      if (script.holdIn?.step === step) await script.holdIn.until;
      if (script.failAt === step) {
        const message = script.error ?? `${step} failed`;
        progress({ kind: 'finish', deploymentId, step, at: new Date(), durationMs: 1, ok: false, message });
        if (script.throwPlain === true) throw new TypeError(message);
        throw new KrakenError(ErrorCode.Internal, message, { deploymentId, details: { step } });
      }
      if (step === 'build') {
        for (const text of script.buildLines ?? []) progress({ kind: 'line', deploymentId, step, at: new Date(), stream: 'build', text });
      }
      progress({ kind: 'finish', deploymentId, step, at: new Date(), durationMs: 1, ok: true });
    }
    const deployment: Deployment = {
      deploymentId,
      instanceId: `c-${deploymentId}`,
      instanceName: `kraken-${deploymentId}`,
      artifact: `kraken/app:${deploymentId}`,
      appName: 'app',
      commit: fromKept && request.commit !== undefined ? request.commit : 'a'.repeat(40),
      state: 'running',
      port: 3000,
      hostPort: request.hostPort ?? script.hostPort ?? 20_000 + this.deployCalls.length,
    };
    this.containers.set(deploymentId, deployment);
    return { ...deployment, reused: false, ...(fromBuild ? { buildReused: true } : {}), ...(fromKept ? { fromKept: true } : {}) };
  }

  async prepare(request: PrepareRequest): Promise<PrepareResult> {
    this.prepareCalls.push(request);
    const { deploymentId, commit } = request;
    const script = this.prepareScripts.get(deploymentId) ?? {};
    this.preparing++;
    try {
      await script.gate;
      if (script.error !== undefined) throw new KrakenError(ErrorCode.Internal, script.error, { deploymentId, details: { step: 'build' } });
      const alreadyKept = this.kept.get(deploymentId) === commit;
      this.kept.set(deploymentId, commit);
      return { deploymentId, commit, alreadyKept };
    } finally {
      this.preparing--;
    }
  }

  forgetKept(deploymentId: string): Promise<void> {
    this.forgetCalls.push(deploymentId);
    this.kept.delete(deploymentId);
    return Promise.resolve();
  }

  stop(deploymentId: string): Promise<void> {
    this.stopCalls.push(deploymentId);
    if (!this.containers.delete(deploymentId)) return Promise.reject(notFound(deploymentId));
    this.followers.get(deploymentId)?.end();
    return Promise.resolve();
  }

  readonly lifecycleCalls: string[] = [];
  /** startApp rejects with this message, once. */
  failNextStart: string | undefined;

  stopApp(deploymentId: string): Promise<void> {
    this.lifecycleCalls.push(`stop ${deploymentId}`);
    const found = this.containers.get(deploymentId);
    if (found === undefined) return Promise.reject(notFound(deploymentId));
    this.containers.set(deploymentId, { ...found, state: 'exited' });
    this.followers.get(deploymentId)?.end();
    return Promise.resolve();
  }

  startApp(deploymentId: string): Promise<Deployment> {
    this.lifecycleCalls.push(`start ${deploymentId}`);
    const found = this.containers.get(deploymentId);
    if (found === undefined) return Promise.reject(notFound(deploymentId));
    const failure = this.failNextStart;
    if (failure !== undefined) {
      this.failNextStart = undefined;
      return Promise.reject(new KrakenError(ErrorCode.Internal, failure, { deploymentId }));
    }
    const started = { ...found, state: 'running' };
    this.containers.set(deploymentId, started);
    return Promise.resolve(started);
  }

  list(): Promise<Deployment[]> {
    return Promise.resolve([...this.containers.values()]);
  }

  followLogs(deploymentId: string, onLine: (line: LogLine) => void, options: FollowLogsOptions = {}): Promise<LogFollower> {
    if (!this.containers.has(deploymentId)) return Promise.reject(notFound(deploymentId));
    this.followCalls.push({ deploymentId, options });
    const skipped = this.skipOnFollow.get(deploymentId);
    if (skipped !== undefined) options.onSkipped?.(skipped);
    let end: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      end = resolve;
    });
    const follower: Follower = {
      onLine,
      end: () => {
        if (this.followers.get(deploymentId) === follower) this.followers.delete(deploymentId);
        end();
      },
    };
    this.followers.set(deploymentId, follower);
    return Promise.resolve({ stop: follower.end, done });
  }

  watchRuns(listener: (event: AppRunEvent) => void): Promise<RunWatcher> {
    this.runListeners.add(listener);
    let end: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      end = () => {
        this.runListeners.delete(listener);
        resolve();
      };
    });
    return Promise.resolve({ stop: () => { end(); }, done });
  }

  /** The runtime saw the app end or start again. */
  emitRun(event: AppRunEvent): void {
    for (const listener of this.runListeners) listener(event);
  }

  /** The app prints a line the runtime can resume after. */
  printAt(deploymentId: string, text: string, cursor: string): void {
    const follower = this.followers.get(deploymentId);
    if (!follower) throw new Error(`no log follower for ${deploymentId}`);
    follower.onLine({ stream: 'stdout', text, at: new Date(), cursor });
  }

  /** The app prints lines. */
  print(deploymentId: string, ...texts: string[]): void {
    const follower = this.followers.get(deploymentId);
    if (!follower) throw new Error(`no log follower for ${deploymentId}`);
    for (const text of texts) follower.onLine({ stream: 'stdout', text, at: new Date() });
  }

  stats(deploymentId: string): Promise<StatsSample> {
    if (!this.containers.has(deploymentId)) return Promise.reject(notFound(deploymentId));
    return Promise.resolve(this.statsSample);
  }
}

function notFound(deploymentId: string): KrakenError {
  return new KrakenError(ErrorCode.NotFound, `no container for ${deploymentId}`, { deploymentId });
}
