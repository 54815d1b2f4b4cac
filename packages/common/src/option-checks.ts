import { parseDuration } from './duration.js';
import { ErrorCode, KrakenError } from './errors.js';

/** Checks for one component's options (plain functions, safe to destructure); errors name the component, the option and what is allowed. */
export interface OptionChecks {
  /** An InvalidConfig error: "<owner> option <field>: <message>". */
  readonly invalid: (field: string, message: string, cause?: unknown) => KrakenError;
  /** Milliseconds, or a string such as "200ms", "2s", "5m"; 0 allowed. */
  readonly duration: (field: string, value: string | number) => number;
  /** A duration above 0. */
  readonly positiveDuration: (field: string, value: string | number) => number;
  /** A finite number from min to max. */
  readonly numberIn: (field: string, value: number, min: number, max: number) => number;
}

export function optionChecks(owner: string): OptionChecks {
  const invalid = (field: string, message: string, cause?: unknown) =>
    new KrakenError(ErrorCode.InvalidConfig, `${owner} option ${field}: ${message}`, { details: { field }, cause });
  const duration = (field: string, value: string | number) => {
    try {
      return parseDuration(value);
    } catch (cause) {
      throw invalid(field, cause instanceof Error ? cause.message : String(cause), cause);
    }
  };
  return {
    invalid,
    duration,
    positiveDuration: (field, value) => {
      const ms = duration(field, value);
      if (ms <= 0) throw invalid(field, `must be more than 0; got ${JSON.stringify(value)}`);
      return ms;
    },
    numberIn: (field, value, min, max) => {
      if (!Number.isFinite(value) || value < min || value > max) throw invalid(field, `must be a number from ${min} to ${max}; got ${String(value)}`);
      return value;
    },
  };
}
