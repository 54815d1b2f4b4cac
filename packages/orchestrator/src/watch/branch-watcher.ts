import type { Clock, Logger } from '@kraken/common';
import { toKrakenError } from '@kraken/common';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { ResolveBranchHead } from '../git/git-head.js';
import type { DeploymentRecord } from '../store/records.js';
import { branchMoved } from './branch-moved.js';

export interface BranchWatcherOptions {
  resolveBranchHead: ResolveBranchHead;
  clock: Clock;
  /** Time between rounds; the first round comes one interval after the watcher starts. */
  intervalMs: number;
  logger: Logger;
  /** The deployments as they are now (the store's list). */
  deployments: () => readonly DeploymentRecord[];
  getDeployment: (id: string) => DeploymentRecord | undefined;
  /** Deploys the branch head again (Orchestrator.redeploy). */
  redeploy: (id: string) => Promise<unknown>;
  /** `git ls-remote` calls at once. @default 4 */
  concurrency?: number;
}

export interface BranchWatcherCounters {
  /** Redeploys started because a branch head moved. */
  redeploys: number;
  /** ls-remote calls that failed (retried next round). */
  failures: number;
}

/**
 * Redeploys watched deployments (`watch: true`) when their branch gets a new commit: every
 * interval, one `git ls-remote` per watched repository and branch, compared with the commit that
 * runs. A deployment in the middle of a deploy is left alone (the next round sees how it ended);
 * one that failed is redeployed once the branch moves past the commit that failed, which is how
 * a fix gets deployed, but never again for the same commit. A remote that cannot be reached is
 * logged and asked again next round; nothing here throws.
 */
export class BranchWatcher {
  private readonly options: BranchWatcherOptions;
  private readonly abort = new AbortController();
  private lastRoundAt: number;
  private round: Promise<void> | undefined;
  /** Per deployment: the head last deployed by this watcher, or first seen while it had failed. */
  private readonly triedHeads = new Map<string, string>();
  private readonly stats: BranchWatcherCounters = { redeploys: 0, failures: 0 };

  constructor(options: BranchWatcherOptions) {
    this.options = options;
    this.lastRoundAt = options.clock.now();
  }

  get counters(): BranchWatcherCounters {
    return { ...this.stats };
  }

  /**
   * Starts a round when one is due and none is running. Resolves when the round in progress
   * (if any) ends, so a caller can await it; never rejects.
   */
  poll(): Promise<void> {
    if (this.round !== undefined || this.closing()) return this.round ?? Promise.resolve();
    const now = this.options.clock.now();
    if (now - this.lastRoundAt < this.options.intervalMs) return Promise.resolve();
    this.lastRoundAt = now;
    this.round = this.runRound()
      .catch((error: unknown) => {
        this.options.logger.error('branch watch round failed', { error: toKrakenError(error) });
      })
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  /** Cancels the ls-remote calls in flight and waits for the round to end; starts no other. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.round;
  }

  // a method, not the field: the compiler would keep `aborted` narrowed across awaits
  private closing(): boolean {
    return this.abort.signal.aborted;
  }

  private async runRound(): Promise<void> {
    const watched = this.options.deployments().filter(isWatchable);
    const watchedIds = new Set(watched.map((d) => d.id));
    for (const id of this.triedHeads.keys()) if (!watchedIds.has(id)) this.triedHeads.delete(id);
    if (watched.length === 0) return;

    const heads = await this.resolveHeads(watched);
    for (const { id } of watched) {
      if (this.closing()) return;
      // read again: the deployment may have moved on while git answered
      const deployment = this.options.getDeployment(id);
      if (deployment === undefined || !isWatchable(deployment)) continue;
      const head = heads.get(remoteKey(deployment));
      if (head === undefined) continue;
      await this.consider(deployment, head);
    }
  }

  private async consider(deployment: DeploymentRecord, head: string): Promise<void> {
    const { id } = deployment;
    if (deployment.status === Status.Running && deployment.commit !== null) this.triedHeads.delete(id);
    // What runs, or what failed: the commit it reported, else the head this watcher last tried.
    // With neither (it failed before the watcher saw it), the head now is the baseline.
    const deployed = deployment.commit ?? this.triedHeads.get(id);
    if (deployed === undefined) {
      this.triedHeads.set(id, head);
      return;
    }
    if (!branchMoved(deployed, head)) return;
    this.options.logger.info('branch head moved; redeploying', {
      deploymentId: id,
      branch: deployment.branch,
      from: deployed,
      to: head,
      status: deployment.status,
    });
    try {
      await this.options.redeploy(id);
      this.triedHeads.set(id, head);
      this.stats.redeploys += 1;
    } catch (error) {
      this.options.logger.warn('could not redeploy after the branch head moved; will try again next round', {
        deploymentId: id,
        error: toKrakenError(error),
      });
    }
  }

  /** One ls-remote per repository and branch, a few at a time; failures leave that key out. */
  private async resolveHeads(watched: readonly DeploymentRecord[]): Promise<Map<string, string>> {
    const remotes = new Map<string, { srcUrl: string; branch: string }>();
    for (const d of watched) remotes.set(remoteKey(d), { srcUrl: d.srcUrl, branch: d.branch });
    const queue = [...remotes];
    const heads = new Map<string, string>();
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined && !this.closing(); next = queue.shift()) {
        const [key, { srcUrl, branch }] = next;
        try {
          const head = await this.options.resolveBranchHead(srcUrl, branch, { signal: this.abort.signal });
          if (head === undefined) {
            this.stats.failures += 1;
            this.options.logger.warn('watched branch does not exist; will look again next round', { srcUrl, branch });
          } else heads.set(key, head);
        } catch (error) {
          if (this.closing()) return;
          this.stats.failures += 1;
          this.options.logger.warn('could not read the head of a watched branch; will try again next round', {
            srcUrl,
            branch,
            error: toKrakenError(error),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 4, queue.length) }, worker));
    return heads;
  }
}

/** Watched, and settled: running (compare with its commit) or failed (a new commit may fix it). */
function isWatchable(deployment: DeploymentRecord): boolean {
  return deployment.watch && (deployment.status === Status.Running || deployment.status === Status.Errored);
}

function remoteKey(deployment: DeploymentRecord): string {
  return `${deployment.branch}\u0000${deployment.srcUrl}`;
}
