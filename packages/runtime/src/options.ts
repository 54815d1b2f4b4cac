import type { OptionChecks } from '@kraken/common';

/** The settings every runtime takes, with the same meaning and defaults in each. */
export interface RuntimeOptions {
  /** Limit for `git clone` (and `git ls-remote`). @default '2m' */
  cloneTimeout?: string | number;
  /** Limit for the manifest's test command. @default '5m' */
  testTimeout?: string | number;
  /** How long a started app has to answer HTTP on its port. @default '30s' */
  readyTimeout?: string | number;
  /** Grace between SIGTERM and SIGKILL when stopping (Docker counts whole seconds). @default '5s' */
  stopTimeout?: string | number;
  /** Gap between the two samples that cpu% is computed from, when no recent sample exists. @default '500ms' */
  statsInterval?: string | number;
  /** How many last output lines go into error messages. @default 20 */
  errorTailLines?: number;
}

export interface CompiledRuntimeOptions {
  cloneTimeoutMs: number;
  testTimeoutMs: number;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  statsIntervalMs: number;
  errorTailLines: number;
}

export const defaultRuntimeOptions = {
  cloneTimeout: '2m',
  testTimeout: '5m',
  readyTimeout: '30s',
  stopTimeout: '5s',
  statsInterval: '500ms',
  errorTailLines: 20,
} as const;

/** Checks and converts the shared settings; `checks` names the runtime in its errors. */
export function compileRuntimeOptions(options: RuntimeOptions, checks: OptionChecks): CompiledRuntimeOptions {
  const { duration, positiveDuration, numberIn } = checks;
  return {
    cloneTimeoutMs: positiveDuration('cloneTimeout', options.cloneTimeout ?? defaultRuntimeOptions.cloneTimeout),
    testTimeoutMs: positiveDuration('testTimeout', options.testTimeout ?? defaultRuntimeOptions.testTimeout),
    readyTimeoutMs: positiveDuration('readyTimeout', options.readyTimeout ?? defaultRuntimeOptions.readyTimeout),
    stopTimeoutMs: duration('stopTimeout', options.stopTimeout ?? defaultRuntimeOptions.stopTimeout),
    statsIntervalMs: positiveDuration('statsInterval', options.statsInterval ?? defaultRuntimeOptions.statsInterval),
    errorTailLines: Math.trunc(numberIn('errorTailLines', options.errorTailLines ?? defaultRuntimeOptions.errorTailLines, 1, 10_000)),
  };
}
