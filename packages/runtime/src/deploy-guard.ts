import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';
import { deployError } from './errors.js';

/**
 * Runs one deploy of `deploymentId` at a time per runtime (a second is a Conflict while the first
 * runs), logs a failure, and makes sure the error names the deployment. Shared by every runtime.
 */
export async function guardDeploy<T>(inFlight: Set<string>, deploymentId: string, log: Logger, work: () => Promise<T>): Promise<T> {
  if (inFlight.has(deploymentId)) {
    throw deployError(ErrorCode.Conflict, `deployment ${deploymentId} is already being deployed on this node`, { deploymentId });
  }
  inFlight.add(deploymentId);
  try {
    return await work();
  } catch (error) {
    const failure = toKrakenError(error);
    log.warn('deploy failed', { error: failure });
    throw failure.deploymentId === undefined
      ? new KrakenError(failure.code, failure.message, { deploymentId, details: failure.details, cause: failure.cause })
      : failure;
  } finally {
    inFlight.delete(deploymentId);
  }
}
