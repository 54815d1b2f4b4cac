import { randomBytes } from 'node:crypto';
import type { Manifest } from '@kraken/shipwreck';
import type { DeployRequest } from '@kraken/runtime';
import type { DeploymentPaths } from './layout.js';

/**
 * The version that serves while a redeploy brings up the next: the new one starts beside it on a
 * port of its own, unless it needs this one's port.
 */
export interface Serving {
  /** Its port; a request for this port means "where the app runs now", not a port the new version must take. */
  port: number | undefined;
  /**
   * Stops it, for a new version that listens on the port it holds (a port fixed in the app's
   * code, which its manifest names): those cannot run side by side.
   */
  makeRoom(): Promise<void>;
}

/** How a new version is placed: its state file, and the port asked for it. */
export interface Placement {
  stateFile: string;
  hostPort: number | undefined;
  /** It runs beside the serving version until it takes over. */
  beside: boolean;
  /**
   * Its control group's name, when not the deployment id: one of its own beside the serving
   * version, whose group (and limit) it must not share.
   */
  cgroup?: string;
}

/** Whose control group a version runs in: its own, or (absent) the deployment's. */
export function cgroupOf(state: { deploymentId: string; cgroup?: string | undefined }): string {
  return state.cgroup ?? state.deploymentId;
}

/**
 * Beside the serving version, on a port of its own; after it, on the port it held, when the new
 * manifest names that port (the app listens there whatever $PORT says).
 */
export async function placeVersion(paths: DeploymentPaths, request: DeployRequest, manifest: Manifest, serving: Serving | undefined): Promise<Placement> {
  if (serving === undefined) return { stateFile: paths.state, hostPort: request.hostPort, beside: false };
  if (serving.port !== undefined && serving.port === manifest.config.port) {
    await serving.makeRoom();
    return { stateFile: paths.state, hostPort: request.hostPort, beside: false };
  }
  return {
    stateFile: paths.candidateState,
    hostPort: request.hostPort === serving.port ? undefined : request.hostPort,
    beside: true,
    cgroup: `${request.deploymentId}.${randomBytes(4).toString('hex')}`,
  };
}
