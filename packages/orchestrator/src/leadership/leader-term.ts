import { ErrorCode, KrakenError } from '@kraken/common';

/**
 * One leader term of an orchestrator: who sends (node id and epoch), whether it still leads, and
 * the one-at-a-time order its operations run in. Every part of the orchestrator shares the one
 * instance, so they all stop acting together when the lease is lost.
 */
export class LeaderTerm {
  /** Operations that read, decide, write and publish run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    /** This orchestrator's node id: the `from` of what it sends. */
    readonly nodeId: string,
    /** Bumped on every start; workers ignore older commands. */
    readonly epoch: number,
    private readonly mayAct: () => boolean,
  ) {}

  /** Whether this orchestrator still holds the lease (a former leader winding down does not). */
  get leads(): boolean {
    return this.mayAct();
  }

  /** Refuses a change or a command of an orchestrator that no longer leads, before it stores or sends anything. */
  requireLeads(what: string, deploymentId?: string): void {
    if (this.mayAct()) return;
    throw new KrakenError(ErrorCode.Unavailable, `cannot ${what}: orchestrator ${this.nodeId} (epoch ${this.epoch}) no longer leads the cluster; ask the current leader`, {
      ...(deploymentId === undefined ? {} : { deploymentId }),
    });
  }

  /** The envelope fields of every message this term sends. */
  meta(): { from: string; epoch: number } {
    return { from: this.nodeId, epoch: this.epoch };
  }

  /** Runs `operation` after every earlier one has finished; its failure does not block later ones. */
  exclusive<T>(operation: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(operation, operation);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the operation in progress (and any queued) has finished, however it ended. */
  settled(): Promise<void> {
    return this.chain.then(() => undefined);
  }
}
