import { ErrorCode, isKrakenError } from '@kraken/common';
import { DeployStep, assertPortFree, deployError, probeHttp } from '@kraken/runtime';
import { listeningPortsOfGroup, portHolders } from './sockets.js';

/**
 * Apps people bring often listen on a port written in their code or manifest (`app.listen(7211)`)
 * rather than on `$PORT`; in a container that is fine, since the port is mapped, but a process
 * has no mapping. When `given` (the port in `$PORT`) does not answer, the ports the app's
 * processes actually listen on are read from the kernel's socket tables and probed, the
 * manifest's port first; the first that answers HTTP is the app's port.
 */
export async function answeringPortElsewhere(input: {
  /** The app's process group (its leader's pid). */
  pgid: number;
  given: number;
  manifestPort: number | undefined;
  endpoint: string;
  timeoutMs: number;
}): Promise<number | undefined> {
  const { given, manifestPort } = input;
  const ports = (await listeningPortsOfGroup(input.pgid)).filter((port) => port !== given);
  const ordered = manifestPort !== undefined && ports.includes(manifestPort) ? [manifestPort, ...ports.filter((port) => port !== manifestPort)] : ports;
  for (const port of ordered) {
    if ((await probeHttp(port, input.endpoint, input.timeoutMs)).ready) return port;
  }
  return undefined;
}

/** A deployment of this node, to name it when it holds a port another app wants. */
export interface KnownApp {
  deploymentId: string;
  appName: string;
  /** Its process group. */
  pgid: number;
}

/**
 * Who listens on `port` on this machine, in words for an error message: a deployment of this
 * node by its id and app name, anything else by its pid and command line. Undefined when nobody
 * listens there, or only processes of group `ownPgid` (the app itself) do.
 */
export async function portTakenBy(port: number, ownPgid: number, apps: readonly KnownApp[]): Promise<string | undefined> {
  const holders = (await portHolders(port)).filter((holder) => holder.pgid !== ownPgid);
  const first = holders[0];
  if (first === undefined) return undefined;
  const app = apps.find((known) => holders.some((holder) => holder.pgid === known.pgid));
  if (app !== undefined) return `deployment ${app.deploymentId} (app ${app.appName})`;
  const command = first.command.length > 120 ? `${first.command.slice(0, 117)}...` : first.command;
  return `process ${first.pid} (${command})`;
}

/** No process group: portTakenBy then names any holder. */
const NO_GROUP = 0;

/**
 * assertPortFree, naming who holds a taken port (a deployment of this node, or a process and its
 * command line), so the person reading the Conflict knows what to stop.
 */
export async function assertHostPortFree(port: number, deploymentId: string, apps: readonly KnownApp[]): Promise<void> {
  try {
    await assertPortFree(port, deploymentId);
  } catch (error) {
    if (!isKrakenError(error) || error.code !== ErrorCode.Conflict) throw error;
    const holder = await portTakenBy(port, NO_GROUP, apps);
    if (holder === undefined) throw error;
    throw deployError(ErrorCode.Conflict, `host port ${String(port)} is already in use on this node by ${holder}; choose another port or stop it`, {
      deploymentId,
      step: DeployStep.Run,
      details: { hostPort: port, heldBy: holder },
      cause: error.cause,
    });
  }
}
