import { ErrorCode, KrakenError } from '@kraken/common';
import { describeValue, invalidField, validateCommit, validateLimits } from '@kraken/runtime';
import type { DeployRequest, PrepareRequest } from '@kraken/runtime';

const DEPLOYMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Throws InvalidInput naming the field (`details.field`) and what it allows. */
export function validateRequest(request: DeployRequest): void {
  const { deploymentId } = request;
  if (!DEPLOYMENT_ID.test(deploymentId)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `deploymentId ${JSON.stringify(deploymentId)} must be 1-100 characters of letters, digits, '_', '.' or '-', starting with a letter or digit (it names the container and image)`,
      { details: { field: 'deploymentId' } },
    );
  }
  if (request.hostPort !== undefined && (!Number.isInteger(request.hostPort) || request.hostPort < 1 || request.hostPort > 65535)) {
    throw invalidField(deploymentId, 'hostPort', `hostPort must be a whole number from 1 to 65535; got ${String(request.hostPort)}`);
  }
  for (const name of Object.keys(request.env ?? {})) {
    if (!ENV_NAME.test(name)) throw invalidField(deploymentId, `env.${name}`, `env name ${JSON.stringify(name)} must match ${ENV_NAME.source}`);
  }
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

