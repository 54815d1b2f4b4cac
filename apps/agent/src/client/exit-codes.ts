import { ErrorCode, toKrakenError } from '@kraken/common';

/** Exit codes scripts can branch on; documented in the README's CLI reference. */
export const ExitCode = {
  Ok: 0,
  /** The operation ran and failed: a deployment Errored, a cancel was refused. */
  Failed: 1,
  /** Bad flags, arguments, configuration or input. */
  Usage: 2,
  /** The API (or the broker, for `kraken agent`) could not be reached. */
  Unreachable: 3,
  NotFound: 4,
  Unauthorized: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeOf(error: unknown): ExitCode {
  switch (toKrakenError(error).code) {
    case ErrorCode.InvalidInput:
    case ErrorCode.InvalidConfig:
    case ErrorCode.InvalidManifest:
    case ErrorCode.PayloadTooLarge:
      return ExitCode.Usage;
    case ErrorCode.Unavailable:
    case ErrorCode.EngineDown:
    case ErrorCode.NoLeader:
    case ErrorCode.Timeout:
    case ErrorCode.Closed:
      return ExitCode.Unreachable;
    case ErrorCode.NotFound:
      return ExitCode.NotFound;
    case ErrorCode.Unauthorized:
      return ExitCode.Unauthorized;
    default:
      return ExitCode.Failed;
  }
}
