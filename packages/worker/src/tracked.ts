import type { DeployRequestBody, DeploymentStatus } from '@kraken/messages';
import type { LogFollower } from '@kraken/runtime';
import type { CrashWatch } from './crash-watch.js';
import type { LogBatcher } from './log-batcher.js';
import type { LogCursorStore } from './log-cursors.js';
import type { ReadyWatch } from './ready-watch.js';
import type { SlotTicket } from './slots.js';

export type Phase = 'queued' | 'deploying' | 'running' | 'destroying';

/** A deployment this node holds, from its deploy request (or its adoption at start) until it is gone. */
export interface Tracked {
  readonly deploymentId: string;
  phase: Phase;
  status: DeploymentStatus;
  commit?: string | undefined;
  port?: number | undefined;
  url?: string | undefined;
  readonly logs: LogBatcher;
  follower?: LogFollower | undefined;
  /** The cursor of the last line read from the app's log: a follow that ended resumes after it. */
  lastCursor?: string | undefined;
  ticket?: SlotTicket | undefined;
  /** Set when a cancel/stop arrived while the deploy was queued or running. */
  cancelled: boolean;
  /** A deploy request that arrived while this deployment was being destroyed: run once the destroy ends. */
  deployAfterDestroy?: DeployRequestBody | undefined;
  /** A newer attempt (a redeploy) that arrived while an older one was deploying: run once it is up. */
  redeployAfterDeploy?: DeployRequestBody | undefined;
  /**
   * The orchestrator's attempt number this node works on, echoed in deploy.status so a late status
   * of an older attempt is recognised. Unknown for a deployment adopted after a restart.
   */
  attempt?: number | undefined;
  statsInFlight: boolean;
}

export interface TrackedDeploymentsOptions {
  /** A new deployment's log batcher, which sends its lines to the orchestrator. */
  openLogs: (deploymentId: string) => LogBatcher;
  crashWatch: Pick<CrashWatch, 'running' | 'forget'>;
  readyWatch: Pick<ReadyWatch, 'running' | 'forget'>;
  logCursors: Pick<LogCursorStore, 'forget'>;
  /** Handles a deploy request that waited for the deployment to be gone. */
  requestAgain: (body: DeployRequestBody) => Promise<void>;
  stopped: () => boolean;
  /** The host a running app's URL names: the configured public host, else the node's first address. */
  host: () => string;
}

/**
 * The deployments this node holds (heartbeats list them, the deploy, lifecycle, log and stats
 * parts act on them): taking one on, watching it while it runs, and letting it go.
 */
export class TrackedDeployments {
  private readonly byId = new Map<string, Tracked>();

  constructor(private readonly options: TrackedDeploymentsOptions) {}

  get size(): number {
    return this.byId.size;
  }

  get(deploymentId: string): Tracked | undefined {
    return this.byId.get(deploymentId);
  }

  has(deploymentId: string): boolean {
    return this.byId.has(deploymentId);
  }

  values(): Tracked[] {
    return [...this.byId.values()];
  }

  track(deploymentId: string, phase: Phase, status: DeploymentStatus): Tracked {
    const t: Tracked = { deploymentId, phase, status, logs: this.options.openLogs(deploymentId), cancelled: false, statsInFlight: false };
    this.byId.set(deploymentId, t);
    return t;
  }

  async untrack(t: Tracked): Promise<void> {
    this.unwatch(t.deploymentId);
    t.follower?.stop();
    t.follower = undefined;
    await t.logs.close();
    await this.options.logCursors.forget(t.deploymentId);
    if (this.byId.get(t.deploymentId) === t) this.byId.delete(t.deploymentId);
    const next = t.deployAfterDestroy;
    if (next !== undefined && !this.options.stopped()) await this.options.requestAgain(next);
  }

  /** A deployment now runs: its restarts are counted and its answers checked from now on. */
  watchRunning(t: Tracked): void {
    this.options.crashWatch.running(t.deploymentId);
    this.options.readyWatch.running(t.deploymentId, t.port);
  }

  /** It is going away, being replaced or stopped: what its runtime and its port say means nothing now. */
  unwatch(deploymentId: string): void {
    this.options.crashWatch.forget(deploymentId);
    this.options.readyWatch.forget(deploymentId);
  }

  // Read through a method: the compiler would keep a field narrowed across awaits, where it changes.
  stillRunning(t: Tracked): boolean {
    return !this.options.stopped() && t.phase === 'running';
  }

  urlFor(hostPort: number): string {
    const host = this.options.host();
    return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${hostPort}`;
  }
}

export function describePhase(phase: Phase): string {
  switch (phase) {
    case 'queued':
      return 'waiting for a deploy slot';
    case 'deploying':
      return 'being deployed';
    case 'running':
      return 'running';
    case 'destroying':
      return 'being destroyed';
  }
}
