import { ErrorCode, KrakenError } from '@kraken/common';
import { deployError } from './errors.js';
import { validateCommit } from './git.js';
import type { ProgressListener } from './progress.js';

/** Container limits for one deploy; each one given wins over the manifest's `memory` / `cpus`. */
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
    throw invalid(deploymentId, 'hostPort', `hostPort must be a whole number from 1 to 65535; got ${String(request.hostPort)}`);
  }
  for (const name of Object.keys(request.env ?? {})) {
    if (!ENV_NAME.test(name)) throw invalid(deploymentId, `env.${name}`, `env name ${JSON.stringify(name)} must match ${ENV_NAME.source}`);
  }
  if (request.commit !== undefined) validateCommit(request.commit, deploymentId);
  if (request.limits !== undefined) validateLimits(request.limits, deploymentId);
}

/** Throws InvalidInput naming the field (`details.field`) and what it allows; url and branch are checked by the clone. */
export function validatePrepareRequest(request: PrepareRequest): void {
  // commit is what makes a failover build worth keeping: the one the deployment runs now
  if (typeof request.commit !== 'string') {
    throw invalid(request.deploymentId, 'commit', `a failover build needs the commit the deployment runs; got ${describe(request.commit)}`);
  }
  validateRequest({ deploymentId: request.deploymentId, url: request.url, branch: request.branch, commit: request.commit, ...(request.env === undefined ? {} : { env: request.env }) });
}

/** Throws InvalidInput naming the limit that is out of range or unknown (`details.field`). */
export function validateLimits(limits: DeployLimits, deploymentId: string): void {
  // checked at run time too: callers outside TypeScript (a message body) can send anything
  if (typeof limits !== 'object' || (limits as unknown) === null || Array.isArray(limits)) {
    throw invalid(deploymentId, 'limits', `limits must be an object with memoryMb and/or cpus; got ${JSON.stringify(limits)}`);
  }
  for (const key of Object.keys(limits)) {
    if (!LIMIT_KEYS.includes(key)) throw invalid(deploymentId, `limits.${key}`, `limits.${key} is not a limit; use memoryMb and/or cpus`);
  }
  const { memoryMb, cpus } = limits;
  if (memoryMb !== undefined && (!Number.isSafeInteger(memoryMb) || memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB)) {
    throw invalid(deploymentId, 'limits.memoryMb', `limits.memoryMb must be a whole number of megabytes from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB}; got ${describe(memoryMb)}`);
  }
  if (cpus !== undefined && (typeof cpus !== 'number' || !Number.isFinite(cpus) || cpus < MIN_CPUS || cpus > MAX_CPUS)) {
    throw invalid(deploymentId, 'limits.cpus', `limits.cpus must be a number of CPUs from ${MIN_CPUS} to ${MAX_CPUS}, such as 0.5 or 2; got ${describe(cpus)}`);
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function invalid(deploymentId: string, field: string, message: string): KrakenError {
  return deployError(ErrorCode.InvalidInput, message, { deploymentId, details: { field } });
}
