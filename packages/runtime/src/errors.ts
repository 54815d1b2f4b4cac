import { KrakenError } from '@kraken/common';
import type { ErrorCode } from '@kraken/common';

/** The deploy steps, in order; progress events and errors name one. */
export const DeployStep = {
  Clone: 'clone',
  Manifest: 'manifest',
  Build: 'build',
  Test: 'test',
  Run: 'run',
  Ready: 'ready',
} as const;
export type DeployStep = (typeof DeployStep)[keyof typeof DeployStep];

export function deployError(
  code: ErrorCode,
  message: string,
  context: { deploymentId: string; step?: DeployStep | undefined; details?: Record<string, unknown>; cause?: unknown },
): KrakenError {
  return new KrakenError(code, message, {
    deploymentId: context.deploymentId,
    details: { ...(context.step === undefined ? {} : { step: context.step }), ...context.details },
    cause: context.cause,
  });
}
