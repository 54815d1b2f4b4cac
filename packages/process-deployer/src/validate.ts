import { ErrorCode, KrakenError } from '@kraken/common';
import { deployError, validateLimits } from '@kraken/runtime';
import type { DeployRequest, PrepareRequest } from '@kraken/runtime';

const DEPLOYMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Whether `deploymentId` can name a deployment's folder. */
export function isDeploymentId(deploymentId: string): boolean {
  return DEPLOYMENT_ID.test(deploymentId);
}

/** Throws InvalidInput naming the field (`details.field`); url, branch and commit are checked by the clone. */
export function validateRequest(request: DeployRequest): void {
  const { deploymentId } = request;
  if (!DEPLOYMENT_ID.test(deploymentId)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `deploymentId ${JSON.stringify(deploymentId)} must be 1-100 characters of letters, digits, '_', '.' or '-', starting with a letter or digit (it names the deployment's folder)`,
      { details: { field: 'deploymentId' } },
    );
  }
  if (request.hostPort !== undefined && (!Number.isInteger(request.hostPort) || request.hostPort < 1 || request.hostPort > 65535)) {
    throw deployError(ErrorCode.InvalidInput, `hostPort must be a whole number from 1 to 65535; got ${String(request.hostPort)}`, {
      deploymentId,
      details: { field: 'hostPort' },
    });
  }
  for (const name of Object.keys(request.env ?? {})) {
    if (!ENV_NAME.test(name)) {
      throw deployError(ErrorCode.InvalidInput, `env name ${JSON.stringify(name)} must match ${ENV_NAME.source}`, { deploymentId, details: { field: `env.${name}` } });
    }
  }
  if (request.limits !== undefined) validateLimits(request.limits, deploymentId);
}

/** A failover build's request: a deploy's checks, and the commit it must name. */
export function validatePrepareRequest(request: PrepareRequest): void {
  const { deploymentId } = request;
  validateRequest({ deploymentId, url: request.url, branch: request.branch, ...(request.env === undefined ? {} : { env: request.env }) });
  if (typeof request.commit !== 'string') {
    throw deployError(ErrorCode.InvalidInput, `a failover build needs the commit the deployment runs; got ${String(request.commit)}`, { deploymentId, details: { field: 'commit' } });
  }
}
