import { ErrorCode } from '@kraken/common';
import { deployError } from './errors.js';

/**
 * The failover builds in flight on one runtime, at most one per deployment. A deploy (the
 * deployment moved here) or a forget of that deployment waits for its build to end rather than
 * race it for the same files and kept list: the build it waits for is often the very one the
 * deploy then runs. Shared by every runtime.
 */
export class PreparesInFlight {
  private readonly running = new Map<string, Promise<unknown>>();

  /** Runs `work` as the failover build of `deploymentId`; Conflict while another one of it runs. */
  async run<T>(deploymentId: string, work: () => Promise<T>): Promise<T> {
    if (this.running.has(deploymentId)) {
      throw deployError(ErrorCode.Conflict, `a failover build of deployment ${deploymentId} is already running on this node`, { deploymentId });
    }
    const done = work();
    this.running.set(deploymentId, done);
    try {
      return await done;
    } finally {
      this.running.delete(deploymentId);
    }
  }

  /** Settles (never rejects) once no failover build of `deploymentId` runs. */
  async settled(deploymentId: string): Promise<void> {
    await this.running.get(deploymentId)?.catch(() => undefined);
  }
}
