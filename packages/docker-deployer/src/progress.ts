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
export function safeListener(listener: ProgressListener | undefined, logger: Logger): ProgressListener {
  if (listener === undefined) return () => undefined;
  return (event) => {
    try {
      listener(event);
    } catch (error) {
      logger.warn('progress listener threw; ignored', { error, deploymentId: event.deploymentId, step: event.step });
    }
  };
}
