import { describeValue, invalidField, validateCommit, validateLimits, validateRequestFields } from '@kraken/runtime';
import type { DeployRequest, PrepareRequest } from '@kraken/runtime';

/** Throws InvalidInput naming the field (`details.field`) and what it allows. */
export function validateRequest(request: DeployRequest): void {
  const { deploymentId } = request;
  validateRequestFields(request, 'the container and image');
  if (request.commit !== undefined) validateCommit(request.commit, deploymentId);
  if (request.limits !== undefined) validateLimits(request.limits, deploymentId);
}

/** Throws InvalidInput naming the field (`details.field`) and what it allows; url and branch are checked by the clone. */
export function validatePrepareRequest(request: PrepareRequest): void {
  // commit is what makes a failover build worth keeping: the one the deployment runs now
  if (typeof request.commit !== 'string') {
    throw invalidField(request.deploymentId, 'commit', `a failover build needs the commit the deployment runs; got ${describeValue(request.commit)}`);
  }
  validateRequest({ deploymentId: request.deploymentId, url: request.url, branch: request.branch, commit: request.commit, ...(request.env === undefined ? {} : { env: request.env }) });
}

