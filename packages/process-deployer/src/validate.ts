import { describeValue, invalidField, validateLimits, validateRequestFields } from '@kraken/runtime';
import type { DeployRequest, PrepareRequest } from '@kraken/runtime';

/** Throws InvalidInput naming the field (`details.field`); url, branch and commit are checked by the clone. */
export function validateRequest(request: DeployRequest): void {
  const { deploymentId } = request;
  validateRequestFields(request, "the deployment's folder");
  if (request.limits !== undefined) validateLimits(request.limits, deploymentId);
}

/** A failover build's request: a deploy's checks, and the commit it must name. */
export function validatePrepareRequest(request: PrepareRequest): void {
  const { deploymentId } = request;
  validateRequest({ deploymentId, url: request.url, branch: request.branch, ...(request.env === undefined ? {} : { env: request.env }) });
  if (typeof request.commit !== 'string') {
    throw invalidField(deploymentId, 'commit', `a failover build needs the commit the deployment runs; got ${describeValue(request.commit)}`);
  }
}
