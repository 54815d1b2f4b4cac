import type { Logger } from '@kraken/common';
import { redactCredentials, toKrakenError } from '@kraken/common';
import type { FailoverBuild } from '@kraken/messages';
import { FailoverBuildState, MAX_FAILOVER_BUILDS } from '@kraken/messages';
import type { PrepareRequest, PrepareResult } from '@kraken/runtime';
import type { Deployer } from './deployer.js';

/** What node.info's `message` holds at most. */
const MAX_MESSAGE_CHARS = 512;

export interface FailoverBuildsOptions {
  deployer: Pick<Deployer, 'prepare' | 'forgetKept' | 'runtime'>;
  /**
   * Whether a failover build may start now: no deploy holds or waits for a slot. Call `poke()` when
   * that may have become true.
   */
  mayStart: () => boolean;
  logger: Logger;
}

interface Entry {
  commit: string;
  state: FailoverBuildState;
  message?: string;
  /** Set while it waits in line for its build. */
  pending?: PrepareRequest;
}

/**
 * The failover builds a node was asked for (deployments that run elsewhere, built here ahead of a
 * move), and the line they build in: one at a time, started only while no deploy holds a slot, so a
 * real deploy always goes first and never waits behind one. A newer request for a deployment
 * replaces an older one still in line. Failures are reported (`failed` + message), never thrown.
 */
export class FailoverBuilds {
  /** By deployment, in the order first asked for. */
  private readonly entries = new Map<string, Entry>();
  private readonly line: string[] = [];
  private building: string | undefined;
  private stopped = false;

  constructor(private readonly options: FailoverBuildsOptions) {}

  /** Records `request` as building and puts it in line; the same commit asked for again is left as it is, unless it failed. */
  request(request: PrepareRequest): void {
    const { deploymentId, commit } = request;
    const existing = this.entries.get(deploymentId);
    if (existing !== undefined && sameCommit(existing.commit, commit) && existing.state !== FailoverBuildState.Failed) {
      this.options.logger.debug('failover build asked for again; it is under way or ready', { deploymentId, commit, state: existing.state });
      return;
    }
    if (this.options.deployer.prepare === undefined) {
      this.refuse(deploymentId, commit, `the ${this.options.deployer.runtime ?? 'docker'} runtime on this node cannot make failover builds`);
      return;
    }
    this.entries.set(deploymentId, { commit, state: FailoverBuildState.Building, pending: request });
    if (!this.line.includes(deploymentId)) this.line.push(deploymentId);
    this.poke();
  }

  /** Records a failover build this node will not make, with why. */
  refuse(deploymentId: string, commit: string, reason: string): void {
    this.removeFromLine(deploymentId);
    this.entries.set(deploymentId, { commit, state: FailoverBuildState.Failed, message: reason.slice(0, MAX_MESSAGE_CHARS) });
  }

  /**
   * The deployment is deployed here now (its kept build is used through `fromKept`), or no longer
   * wanted: its entry goes and a build still in line is cancelled. One already building finishes
   * (the runtime makes a deploy of it wait for it) and is not reported.
   */
  drop(deploymentId: string): void {
    this.removeFromLine(deploymentId);
    this.entries.delete(deploymentId);
  }

  /** Drops the entry and frees what the runtime keeps of the deployment (after its build in flight, if any). */
  async forget(deploymentId: string): Promise<void> {
    this.drop(deploymentId);
    await this.options.deployer.forgetKept?.(deploymentId);
  }

  /** Starts the next build in line when none runs and no deploy holds a slot. */
  poke(): void {
    if (this.stopped || this.building !== undefined || !this.options.mayStart()) return;
    for (let deploymentId = this.line.shift(); deploymentId !== undefined; deploymentId = this.line.shift()) {
      const entry = this.entries.get(deploymentId);
      const request = entry?.pending;
      if (entry === undefined || request === undefined) continue;
      delete entry.pending;
      this.start(entry, request);
      return;
    }
  }

  /** The entries for node.info, at most MAX_FAILOVER_BUILDS. */
  list(): FailoverBuild[] {
    return [...this.entries]
      .slice(0, MAX_FAILOVER_BUILDS)
      .map(([deploymentId, entry]) => ({ deploymentId, commit: entry.commit, state: entry.state, ...(entry.message === undefined ? {} : { message: entry.message }) }));
  }

  /** Starts no more builds (the agent stops); one in flight is the runtime's to end. */
  stop(): void {
    this.stopped = true;
    this.line.length = 0;
  }

  private start(entry: Entry, request: PrepareRequest): void {
    const { deploymentId } = request;
    const { deployer, logger } = this.options;
    this.building = deploymentId;
    logger.info('failover build started', { deploymentId, commit: request.commit });
    void prepareSafely(deployer, request)
      .then(
        (result) => {
          if (this.entries.get(deploymentId) !== entry || result === undefined) return;
          entry.state = FailoverBuildState.Ready;
          entry.commit = result.commit;
          logger.info('failover build ready', { deploymentId, commit: result.commit, alreadyKept: result.alreadyKept });
        },
        (error: unknown) => {
          const failure = toKrakenError(error);
          logger.warn('failover build failed', { deploymentId, commit: request.commit, error: failure });
          if (this.entries.get(deploymentId) !== entry) return;
          entry.state = FailoverBuildState.Failed;
          // a failed clone quotes the git URL, credentials and all: they go no further than this node
          entry.message = redactCredentials(failure.message).slice(0, MAX_MESSAGE_CHARS);
        },
      )
      .finally(() => {
        this.building = undefined;
        this.poke();
      });
  }

  private removeFromLine(deploymentId: string): void {
    const index = this.line.indexOf(deploymentId);
    if (index !== -1) this.line.splice(index, 1);
  }
}

/** The runtime's build as a promise, also when its prepare throws at once (a failure like any other). */
function prepareSafely(deployer: Pick<Deployer, 'prepare'>, request: PrepareRequest): Promise<PrepareResult | undefined> {
  try {
    return deployer.prepare?.(request) ?? Promise.resolve(undefined);
  } catch (error) {
    return Promise.reject(toKrakenError(error));
  }
}

/** A full sha and its abbreviation name the same commit. */
function sameCommit(a: string, b: string): boolean {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x.startsWith(y) || y.startsWith(x);
}
