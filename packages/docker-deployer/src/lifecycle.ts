import type Docker from 'dockerode';
import { ErrorCode } from '@kraken/common';
import { DeployStep, delay, deployError, probeHttp } from '@kraken/runtime';
import { formatLines, formatSeconds, lastLogLines } from './containers.js';
import { engineStatus, mapEngineError } from './errors.js';

/** How long an app without a port must stay up, after a start, to count as started. */
const NO_PORT_GRACE_MS = 1000;
const POLL_MS = 100;

/**
 * Stops a deployment's container and keeps it (and so its image, name, port binding and logs):
 * SIGTERM, SIGKILL after `graceSeconds`. An explicit stop also holds off the `unless-stopped`
 * restart policy, across engine restarts too. A container already stopped is left as it is.
 */
export async function stopContainer(container: Docker.Container, deploymentId: string, graceSeconds: number): Promise<void> {
  try {
    await container.stop({ t: graceSeconds });
  } catch (error) {
    // 304: already stopped
    if (engineStatus(error) !== 304) throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: 'stop the container' });
  }
}

export interface StartRequest {
  deploymentId: string;
  /** Where the app is published on this node; undefined for an app without a port. */
  hostPort: number | undefined;
  endpoint: string;
  timeoutMs: number;
  tailLines: number;
}

/**
 * Starts a stopped container again, as it was created (image, command, env, port binding: no
 * build, no test), and resolves once the app answers on its host port, or, without a port, has
 * stayed up a moment. Rejects (and stops the container again) when it exits or stays silent.
 */
export async function startContainer(container: Docker.Container, request: StartRequest): Promise<void> {
  const { deploymentId, hostPort } = request;
  const context = { deploymentId, step: DeployStep.Ready };
  try {
    await container.start();
  } catch (error) {
    // 304: already running
    if (engineStatus(error) !== 304) throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: 'start the container' });
  }
  const deadline = Date.now() + (hostPort === undefined ? Math.min(NO_PORT_GRACE_MS, request.timeoutMs) : request.timeoutMs);
  let lastReason = 'no attempt yet';
  for (;;) {
    if (hostPort !== undefined) {
      const probe = await probeHttp(hostPort, request.endpoint, Math.min(2000, request.timeoutMs));
      if (probe.ready) return;
      lastReason = probe.reason ?? 'no answer';
    }
    let running: boolean;
    try {
      running = (await container.inspect()).State.Running;
    } catch (error) {
      throw mapEngineError(error, { ...context, action: 'inspect the app container' });
    }
    if (!running) {
      const lines = await lastLogLines(container, request.tailLines);
      throw deployError(ErrorCode.Internal, `app exited right after it was started again${formatLines(lines)}`, { ...context, details: { output: lines } });
    }
    if (Date.now() >= deadline) {
      if (hostPort === undefined) return;
      const lines = await lastLogLines(container, request.tailLines);
      await stopContainer(container, deploymentId, 0).catch(() => undefined);
      throw deployError(ErrorCode.Internal, `app did not answer on port ${hostPort} within ${formatSeconds(request.timeoutMs)} of its start (GET ${request.endpoint}: ${lastReason})${formatLines(lines)}`, {
        ...context,
        details: { hostPort, output: lines },
      });
    }
    await delay(POLL_MS);
  }
}
