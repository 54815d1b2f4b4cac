import { KrakenError, toKrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';
import type { DeployStep } from './errors.js';

/** Where a progress line came from: image build output, the test command, or the app itself. */
export type ProgressStream = 'build' | 'test' | 'stdout' | 'stderr';

/**
 * What a deploy reports while it runs. A worker maps steps to deployment statuses: clone and
 * manifest -> RetrievingApplicationData, build -> BuildingDeployment, test -> TestingDeployment,
 * run -> Deploying, ready finished -> Running.
 */
export type DeployProgress =
  | { kind: 'start'; deploymentId: string; step: DeployStep; at: Date }
  | { kind: 'finish'; deploymentId: string; step: DeployStep; at: Date; durationMs: number; ok: boolean; message?: string }
  | { kind: 'line'; deploymentId: string; step: DeployStep; at: Date; stream: ProgressStream; text: string };

export type ProgressListener = (event: DeployProgress) => void;

/** Calls the listener without ever letting its exception escape into the deploy. */
function safeListener(listener: ProgressListener | undefined, logger: Logger): ProgressListener {
  if (listener === undefined) return () => undefined;
  return (event) => {
    try {
      listener(event);
    } catch (error) {
      logger.warn('progress listener threw; ignored', { error, deploymentId: event.deploymentId, step: event.step });
    }
  };
}

/** Reports one line of a step's output. */
export type StepLine = (stream: ProgressStream, text: string) => void;
/** Runs one deploy step, reporting its start, lines and finish. */
export type StepRunner = <T>(name: DeployStep, work: (line: StepLine) => Promise<T>) => Promise<T>;

/**
 * Runs deploy steps with start / line / finish events, the same for every runtime, so a worker
 * reports a process deployment exactly like a container one. A failing step's error gets the
 * deployment id and the step name.
 */
export function stepRunner(deploymentId: string, listener: ProgressListener | undefined, logger: Logger): StepRunner {
  const emit = safeListener(listener, logger);
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

/** The error with the deployment id and the step it failed in, unless it names them already. */
function withStep(error: KrakenError, deploymentId: string, step: DeployStep): KrakenError {
  if (error.details?.['step'] !== undefined && error.deploymentId !== undefined) return error;
  return new KrakenError(error.code, error.message, {
    deploymentId: error.deploymentId ?? deploymentId,
    nodeId: error.nodeId,
    details: { ...error.details, step: error.details?.['step'] ?? step },
    cause: error.cause,
  });
}
