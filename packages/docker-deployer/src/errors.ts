import { ErrorCode, KrakenError, isKrakenError, toKrakenError } from '@kraken/common';
import { deployError } from '@kraken/runtime';
import type { DeployStep } from '@kraken/runtime';

/** How blameEngine watches the engine after an unexpected engine error. */
export interface EngineWatchWindow {
  /** How long it keeps asking. */
  windowMs: number;
  /** Between two asks. */
  intervalMs: number;
}

/**
 * Rejects with what a failed deploy of `deploymentId` should report: EngineDown when the engine
 * does not answer `ping` (the deploy failed because the engine went away, whatever error the
 * engine gave on its way out), so the orchestrator places the deployment on another node; the
 * failure itself otherwise. After an unexpected engine error (Internal) it keeps asking for
 * `watch.windowMs`: a daemon shutting down fails requests (500s) while it still answers pings,
 * for the second or so before it exits.
 */
export async function blameEngine(error: unknown, deploymentId: string, ping: () => Promise<void>, watch: EngineWatchWindow): Promise<never> {
  const failure = toKrakenError(error);
  if (failure.code === ErrorCode.EngineDown) throw failure;
  const answers = () =>
    ping().then(
      () => true,
      () => false,
    );
  const until = Date.now() + (failure.code === ErrorCode.Internal ? watch.windowMs : 0);
  for (;;) {
    if (!(await answers())) break;
    if (Date.now() >= until) throw failure;
    await new Promise((resolve) => setTimeout(resolve, watch.intervalMs));
  }
  throw new KrakenError(ErrorCode.EngineDown, `the Docker engine stopped answering during the deploy: ${failure.message}`, {
    deploymentId: failure.deploymentId ?? deploymentId,
    details: failure.details,
    cause: failure,
  });
}

/** The parts of a dockerode/docker-modem error the mapping reads. */
interface EngineErrorShape {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
  json?: unknown;
}

/** The engine's own message (`{"message": ...}` body) rather than docker-modem's "(HTTP code 500) ..." wrapper. */
export function engineMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const shape = error as EngineErrorShape;
  if (typeof shape.json === 'object' && shape.json !== null) {
    const message = (shape.json as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return typeof shape.message === 'string' ? shape.message : 'unknown engine error';
}

export function engineStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as EngineErrorShape).statusCode;
  return typeof status === 'number' ? status : undefined;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

const PORT_TAKEN = /port is already allocated|address already in use/i;

/**
 * Normalises an engine failure during `step`: a socket that does not answer is EngineDown (the
 * orchestrator places the deployment on another node), a host port in use is Conflict naming the port, a 404 is NotFound, anything else Internal.
 */
export function mapEngineError(error: unknown, context: { deploymentId: string; step: DeployStep; hostPort?: number | undefined; action: string }): KrakenError {
  if (isKrakenError(error)) return error;
  const message = engineMessage(error);
  const code = typeof error === 'object' && error !== null ? (error as EngineErrorShape).code : undefined;
  const base = { deploymentId: context.deploymentId, step: context.step, cause: error };
  if (typeof code === 'string' && UNREACHABLE.has(code)) {
    return deployError(ErrorCode.EngineDown, `the Docker engine did not answer while trying to ${context.action}: ${message}`, base);
  }
  if (PORT_TAKEN.test(message)) {
    const port = context.hostPort === undefined ? 'the host port' : `host port ${context.hostPort}`;
    return deployError(ErrorCode.Conflict, `${port} is already in use on this node; choose another port or stop what uses it (${message})`, {
      ...base,
      details: { hostPort: context.hostPort },
    });
  }
  if (engineStatus(error) === 404) return deployError(ErrorCode.NotFound, `Docker could not ${context.action}: ${message}`, base);
  return deployError(ErrorCode.Internal, `Docker could not ${context.action}: ${message}`, base);
}
