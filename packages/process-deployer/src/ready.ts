import { ErrorCode } from '@kraken/common';
import type { Logger } from '@kraken/common';
import { DeployStep, deployError, probeHttp } from '@kraken/runtime';
import type { DeploymentPaths } from './layout.js';
import { formatOutput } from './lines.js';
import { answeringPortElsewhere, portTakenBy } from './listen-port.js';
import type { KnownApp } from './listen-port.js';
import { lastLines } from './logs.js';
import { listeningPortsOfGroup } from './sockets.js';
import type { Supervisor } from './supervisor.js';

/** How long an app without a port must stay up to count as started (as with containers). */
const NO_PORT_GRACE_MS = 1000;
const READY_POLL_MS = 250;

export interface ServingCheck {
  paths: DeploymentPaths;
  /** The port the manifest names, where an app that ignores $PORT usually listens. */
  manifestPort: number | undefined;
  timeoutMs: number;
  errorTailLines: number;
  logger: Logger;
  /** The deployer's other apps, to name one that holds the manifest's port. */
  otherApps: () => KnownApp[];
}

interface Taken {
  port: number;
  holder: string;
}

/**
 * Waits until the app answers HTTP below 500 on its port, failing early when the process ends
 * (with its last output lines). An app that ignores $PORT and listens where its code says is
 * found there (see answeringPortElsewhere), and that port becomes its own. When the manifest's
 * port is taken by someone else, the failure names who holds it.
 */
export async function waitServing(supervisor: Supervisor, check: ServingCheck): Promise<void> {
  const { deploymentId, hostPort, endpoint } = supervisor.state;
  const { timeoutMs, manifestPort } = check;
  const context = { deploymentId, step: DeployStep.Ready };
  const deadline = Date.now() + (hostPort === undefined ? Math.min(NO_PORT_GRACE_MS, timeoutMs) : timeoutMs);
  let lastReason = 'no attempt yet';
  for (;;) {
    const exit = supervisor.lastExit;
    if (!supervisor.running && exit !== undefined) {
      const how = exit.code !== null ? `exited with code ${exit.code}` : `was killed by ${exit.signal ?? 'a signal'}`;
      const where = hostPort === undefined ? 'right after start' : `before answering on port ${hostPort}`;
      const taken = await manifestPortTaken(supervisor, check);
      if (taken !== undefined && (await saidAddressInUse(check))) {
        throw deployError(
          ErrorCode.Conflict,
          `app ${how} ${where}: port ${taken.port}, which its manifest names, is taken on this node by ${taken.holder}. ` +
            `An app that listens on a fixed port needs it free: stop what holds it, or have the app listen on $PORT${await outputTail(check)}`,
          { ...context, details: { port: taken.port, heldBy: taken.holder, exitCode: exit.code } },
        );
      }
      throw deployError(ErrorCode.Internal, `app ${how} ${where}${takenNote(taken)}${await outputTail(check)}`, {
        ...context,
        details: { exitCode: exit.code, signal: exit.signal },
      });
    }
    if (hostPort !== undefined) {
      const probeMs = Math.min(2000, timeoutMs);
      const probe = await probeHttp(hostPort, endpoint, probeMs);
      if (probe.ready) return;
      lastReason = probe.reason ?? 'no answer';
      const elsewhere = await answeringPortElsewhere({ pgid: supervisor.state.pid, given: hostPort, manifestPort, endpoint, timeoutMs: probeMs });
      if (elsewhere !== undefined) {
        check.logger.info('the app listens on a port of its own rather than $PORT; using it', { port: elsewhere, given: hostPort });
        supervisor.listensOn(elsewhere);
        return;
      }
    }
    if (Date.now() >= deadline) {
      if (hostPort === undefined) return;
      if (await answersAfterStall(hostPort, endpoint, Math.min(2000, timeoutMs))) return;
      const taken = await manifestPortTaken(supervisor, check);
      const listening = await listeningPortsOfGroup(supervisor.state.pid);
      const found = listening.length === 0 ? 'it listens on no TCP port' : `it listens on ${listening.join(', ')}, where GET ${endpoint} got no answer below 500 either`;
      const manifestNamed = manifestPort === undefined ? '' : ` (${manifestPort})`;
      throw deployError(
        ErrorCode.Timeout,
        `app did not answer HTTP on port ${hostPort} within ${formatSeconds(timeoutMs)} (GET ${endpoint}: ${lastReason}); ${found}. ` +
          `The app should listen on the port in $PORT (${hostPort}) or on the manifest's port${manifestNamed}${takenNote(taken)}${await outputTail(check)}`,
        { ...context, details: { hostPort, listening } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

/**
 * One more probe at the deadline, started after it: an agent stopped for a while (SIGSTOP, a
 * suspended laptop) wakes past its deadline holding only the answer to a probe made before it
 * stopped, while the app went on starting and now serves.
 */
async function answersAfterStall(port: number, endpoint: string, timeoutMs: number): Promise<boolean> {
  return (await probeHttp(port, endpoint, timeoutMs)).ready;
}

/**
 * A failed start is often an app whose fixed port another program holds. When the manifest
 * names a port the app was not given, and someone else listens there, this says who.
 */
async function manifestPortTaken(supervisor: Supervisor, check: ServingCheck): Promise<Taken | undefined> {
  const port = check.manifestPort;
  if (port === undefined || port === supervisor.state.hostPort) return undefined;
  const holder = await portTakenBy(port, supervisor.state.pid, check.otherApps());
  return holder === undefined ? undefined : { port, holder };
}

/**
 * Whether the app's last output says a listen failed on a taken address (node's EADDRINUSE,
 * python's "Address already in use"): with a holder found, that makes the failure a Conflict
 * rather than a guess.
 */
async function saidAddressInUse(check: ServingCheck): Promise<boolean> {
  const { paths, errorTailLines } = check;
  const lines = [...(await lastLines(paths.stderr, errorTailLines)), ...(await lastLines(paths.stdout, errorTailLines))];
  return lines.some((line) => /EADDRINUSE|address already in use/i.test(line));
}

async function outputTail(check: ServingCheck): Promise<string> {
  const { paths, errorTailLines } = check;
  const [stderr, stdout] = await Promise.all([lastLines(paths.stderr, errorTailLines), lastLines(paths.stdout, errorTailLines)]);
  if (stderr.length === 0 && stdout.length === 0) return '\n(the app wrote no output)';
  return (stderr.length > 0 ? formatOutput(stderr, 'last stderr lines') : '') + (stdout.length > 0 ? formatOutput(stdout, 'last stdout lines') : '');
}

/** A hint for a failure that may come from a taken fixed port, when the app's output does not say so. */
function takenNote(taken: Taken | undefined): string {
  return taken === undefined ? '' : ` (note: port ${taken.port}, which its manifest names, is taken on this node by ${taken.holder})`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
