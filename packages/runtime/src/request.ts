import { ErrorCode } from '@kraken/common';
import { KrakenError } from '@kraken/common';
import { deployError } from './errors.js';
import type { ProgressListener } from './progress.js';

/** An app's limits for one deploy; each one given wins over the manifest's `memory` / `cpus`. */
export interface DeployLimits {
  /** Whole megabytes, 6 (Docker's minimum) to 1048576. */
  memoryMb?: number;
  /** CPUs, such as 0.5 or 2: 0.01 (Docker's minimum) to 64. */
  cpus?: number;
}

export interface DeployRequest {
  /** Names the container (`kraken-<id>`) and image tag: 1-100 of letters, digits, '_', '.', '-'. */
  deploymentId: string;
  /** Any git remote: a local path, file://, http(s)://, ssh. */
  url: string;
  branch: string;
  /**
   * The commit to deploy instead of the branch head: a full sha, or an abbreviation of at least 4
   * hex digits that names a commit of `branch`. Unset deploys the branch head.
   */
  commit?: string;
  /** Host port to publish the app on; unset lets Docker pick a free one. */
  hostPort?: number;
  /** Environment added to (and overriding) the manifest's `[config.env]`. */
  env?: Readonly<Record<string, string>>;
  limits?: DeployLimits;
  /**
   * A redeploy: a deployment of this id already running here is replaced, not reused. The Docker
   * runtime builds and tests the new version while the old one serves and swaps them just before
   * the run step, so a failed build or test leaves the old app running.
   */
  replace?: boolean;
  /**
   * A rollback (with `replace` and `commit`): run the build of `commit` this node kept from an
   * earlier deploy of this deployment, without clone, build or test. When none is kept (the app
   * moved here since, or it was pruned), the commit is built again; the result's `fromKept` says which.
   */
  fromKept?: boolean;
  onProgress?: ProgressListener;
}

/**
 * A failover build: the commit of a deployment that runs on another node, built here ahead of time
 * and kept (as a deploy keeps its builds for a rollback), so that when the deployment moves here a
 * DeployRequest with `fromKept` and this commit starts it with no clone, build or test.
 */
export interface PrepareRequest {
  /** The deployment it is kept for: 1-100 of letters, digits, '_', '.', '-'. */
  deploymentId: string;
  /** Any git remote: a local path, file://, http(s)://, ssh. */
  url: string;
  branch: string;
  /** The commit the deployment runs: a full sha, or an abbreviation of at least 4 hex digits that names a commit of `branch`. */
  commit: string;
  /** The deployment's environment, which the process runtime's installs run with (registry settings); the Docker build does not read it. */
  env?: Readonly<Record<string, string>>;
}

export interface PrepareResult {
  deploymentId: string;
  /** The full sha of the kept build. */
  commit: string;
  /** true when this node kept a build of that commit already, so nothing was built. */
  alreadyKept: boolean;
}

const DEPLOYMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// the manifest's bounds (shipwreck), so a request can ask for whatever a manifest can
const MIN_MEMORY_MB = 6;
const MAX_MEMORY_MB = 1024 * 1024;
const MIN_CPUS = 0.01;
const MAX_CPUS = 64;
const LIMIT_KEYS: readonly string[] = ['memoryMb', 'cpus'];

/** Whether `deploymentId` can name what a runtime makes of a deployment (a container, an image tag, a folder). */
export function isDeploymentId(deploymentId: string): boolean {
  return DEPLOYMENT_ID.test(deploymentId);
}

/**
 * Throws InvalidInput naming the field (`details.field`) and what it allows, for the fields every
 * runtime checks alike: the deployment id, the host port and the env names. `idNames` says what the
 * id names on this runtime ("the container and image"), for the message. Limits are validateLimits'.
 */
export function validateRequestFields(request: DeployRequest, idNames: string): void {
  const { deploymentId } = request;
  if (!isDeploymentId(deploymentId)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `deploymentId ${JSON.stringify(deploymentId)} must be 1-100 characters of letters, digits, '_', '.' or '-', starting with a letter or digit (it names ${idNames})`,
      { details: { field: 'deploymentId' } },
    );
  }
  if (request.hostPort !== undefined && (!Number.isInteger(request.hostPort) || request.hostPort < 1 || request.hostPort > 65535)) {
    throw invalidField(deploymentId, 'hostPort', `hostPort must be a whole number from 1 to 65535; got ${String(request.hostPort)}`);
  }
  for (const name of Object.keys(request.env ?? {})) {
    if (!ENV_NAME.test(name)) throw invalidField(deploymentId, `env.${name}`, `env name ${JSON.stringify(name)} must match ${ENV_NAME.source}`);
  }
}

/** Throws InvalidInput naming the limit that is out of range or unknown (`details.field`). */
export function validateLimits(limits: DeployLimits, deploymentId: string): void {
  // checked at run time too: callers outside TypeScript (a message body) can send anything
  if (typeof limits !== 'object' || (limits as unknown) === null || Array.isArray(limits)) {
    throw invalidField(deploymentId, 'limits', `limits must be an object with memoryMb and/or cpus; got ${JSON.stringify(limits)}`);
  }
  for (const key of Object.keys(limits)) {
    if (!LIMIT_KEYS.includes(key)) throw invalidField(deploymentId, `limits.${key}`, `limits.${key} is not a limit; use memoryMb and/or cpus`);
  }
  const { memoryMb, cpus } = limits;
  if (memoryMb !== undefined && (!Number.isSafeInteger(memoryMb) || memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB)) {
    throw invalidField(deploymentId, 'limits.memoryMb', `limits.memoryMb must be a whole number of megabytes from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB}; got ${describeValue(memoryMb)}`);
  }
  if (cpus !== undefined && (typeof cpus !== 'number' || !Number.isFinite(cpus) || cpus < MIN_CPUS || cpus > MAX_CPUS)) {
    throw invalidField(deploymentId, 'limits.cpus', `limits.cpus must be a number of CPUs from ${MIN_CPUS} to ${MAX_CPUS}, such as 0.5 or 2; got ${describeValue(cpus)}`);
  }
}

/**
 * The limits an app runs with, the same in every runtime: each limit the request gives wins over
 * the manifest's, which wins over the runtime's default. A limit none of them sets is absent.
 */
export function effectiveLimits(requested: DeployLimits | undefined, manifest: DeployLimits, defaults: Required<DeployLimits>): Required<DeployLimits>;
export function effectiveLimits(requested: DeployLimits | undefined, manifest: DeployLimits, defaults?: DeployLimits): DeployLimits;
export function effectiveLimits(requested: DeployLimits | undefined, manifest: DeployLimits, defaults: DeployLimits = {}): DeployLimits {
  const memoryMb = requested?.memoryMb ?? manifest.memoryMb ?? defaults.memoryMb;
  const cpus = requested?.cpus ?? manifest.cpus ?? defaults.cpus;
  return { ...(memoryMb === undefined ? {} : { memoryMb }), ...(cpus === undefined ? {} : { cpus }) };
}

/** `value` as an error message shows it: a string quoted, anything else as is. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** InvalidInput for a deploy of `deploymentId`, naming the request's field (`details.field`). */
export function invalidField(deploymentId: string, field: string, message: string): KrakenError {
  return deployError(ErrorCode.InvalidInput, message, { deploymentId, details: { field } });
}
