import { KrakenError, toKrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';
import type { DeployStep, ProgressListener, ProgressStream } from '@kraken/docker-deployer';

export type StepLine = (stream: ProgressStream, text: string) => void;
export type StepRunner = <T>(name: DeployStep, work: (line: StepLine) => Promise<T>) => Promise<T>;

/**
 * Runs deploy steps with the same start / line / finish events DockerDeployer sends, so a worker
 * reports a process deployment exactly like a container one. A listener that throws is logged and
 * ignored; a failing step's error gets the deployment id and the step name.
 */
export function stepRunner(deploymentId: string, listener: ProgressListener | undefined, logger: Logger): StepRunner {
  const emit: ProgressListener = (event) => {
    if (listener === undefined) return;
    try {
      listener(event);
    } catch (error) {
      logger.warn('progress listener threw; ignored', { error, deploymentId, step: event.step });
    }
  };
  return async (name, work) => {
    const started = Date.now();
    emit({ kind: 'start', deploymentId, step: name, at: new Date() });
    const line: StepLine = (stream, text) => {
      emit({ kind: 'line', deploymentId, step: name, at: new Date(), stream, text });
    };
    try {
      const value = await work(line);
      emit({ kind: 'finish', deploymentId, step: name, at: new Date(), durationMs: Date.now() - started, ok: true });
      return value;
    } catch (error) {
      const failure = withStep(toKrakenError(error), deploymentId, name);
      emit({ kind: 'finish', deploymentId, step: name, at: new Date(), durationMs: Date.now() - started, ok: false, message: failure.message });
      throw failure;
    }
  };
}

export function withStep(error: KrakenError, deploymentId: string, step: DeployStep): KrakenError {
  if (error.details?.['step'] !== undefined && error.deploymentId !== undefined) return error;
  return new KrakenError(error.code, error.message, {
    deploymentId: error.deploymentId ?? deploymentId,
    nodeId: error.nodeId,
    details: { ...error.details, step: error.details?.['step'] ?? step },
    cause: error.cause,
  });
}
