import type Docker from 'dockerode';
import { ErrorCode } from '@kraken/common';
import type { Manifest } from '@kraken/shipwreck';
import { DeployStep, deployError, instanceName } from '@kraken/runtime';
import { envList, hostConfigLimits, removeContainer } from './containers.js';
import type { Limits } from './containers.js';
import { engineStatus, mapEngineError } from './errors.js';

/**
 * Creates and starts a deployment's app container: its port published on every interface (apps
 * of a PaaS are meant to be reached from the LAN), no restart policy until the app is ready. A
 * container of that name already there is a Conflict; a failed start leaves no container.
 */
export async function createAppContainer(docker: Docker, nodeId: string, input: {
  deploymentId: string;
  image: string;
  manifest: Manifest;
  env: Record<string, string>;
  limits: Limits;
  labels: Record<string, string>;
  /** The container port to publish: the manifest's, or the one the app was found listening on. */
  port: number | undefined;
  hostPort: number | undefined;
}): Promise<Docker.Container> {
  const { deploymentId, manifest, hostPort, port } = input;
  const exposed = port === undefined ? {} : { [`${port}/tcp`]: {} };
  // HostIp '' publishes on every interface: apps of a PaaS are meant to be reached from the LAN
  const bindings = port === undefined ? {} : { [`${port}/tcp`]: [{ HostIp: '', HostPort: hostPort === undefined ? '' : String(hostPort) }] };
  const context = { deploymentId, step: DeployStep.Run, hostPort };
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name: instanceName(deploymentId, nodeId),
      Image: input.image,
      ...(manifest.config.run === undefined ? {} : { Cmd: ['sh', '-c', manifest.config.run] }),
      Env: envList(input.env),
      Labels: input.labels,
      ExposedPorts: exposed,
      Tty: false,
      HostConfig: {
        Init: true,
        PortBindings: bindings,
        // no restarts until the app is ready: a restart would hide the exit code of a crash at
        // start; the policy becomes unless-stopped once the ready check passes
        RestartPolicy: { Name: 'no' },
        ...hostConfigLimits(input.limits),
      },
    });
  } catch (error) {
    if (engineStatus(error) === 409) {
      throw deployError(ErrorCode.Conflict, `a container named ${instanceName(deploymentId, nodeId)} already exists on this node (another agent, or a deploy in progress)`, {
        ...context,
        cause: error,
      });
    }
    throw mapEngineError(error, { ...context, action: 'create the app container' });
  }
  try {
    await container.start();
  } catch (error) {
    await removeContainer(container).catch(() => undefined);
    throw mapEngineError(error, { ...context, action: 'start the app container' });
  }
  return container;
}
