import { ErrorCode, KrakenError } from '@kraken/common';
import { ID_PATTERN, envNameProblem, envValueProblem } from '@kraken/messages';
import { MAX_ENV_VARS } from '../settings/env-change.js';
const MAX_ENV_VALUE_BYTES = 32 * 1024;

function invalid(field: string, message: string, details: Record<string, unknown> = {}): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `${field}: ${message}`, { details: { field, ...details } });
}

/** Ids end up in queue names and paths; anything else cannot exist, so say what is allowed. */
export function checkId(field: string, value: string): string {
  if (!ID_PATTERN.test(value))
    throw invalid(field, `expected an id of 1-64 characters from [A-Za-z0-9._-], got ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

/** An env list (createDeployment's `env`, setEnv's `set`) as a record; names must be usable as shell variables (envNameProblem), once each. */
export function envFromInput(
  input: readonly { name: string; value: string }[] | null | undefined,
  field = 'env',
): Record<string, string> | undefined {
  if (input === null || input === undefined) return undefined;
  if (input.length > MAX_ENV_VARS) throw invalid(field, `at most ${MAX_ENV_VARS} variables, got ${input.length}`);
  const env: Record<string, string> = {};
  input.forEach(({ name, value }, index) => {
    const nameProblem = envNameProblem(name);
    if (nameProblem !== undefined) throw invalid(`${field}[${index}].name`, nameProblem);
    if (Object.hasOwn(env, name)) throw invalid(`${field}[${index}].name`, `${name} is given twice`);
    if (Buffer.byteLength(value, 'utf8') > MAX_ENV_VALUE_BYTES)
      throw invalid(`${field}[${index}].value`, `at most ${MAX_ENV_VALUE_BYTES} bytes`);
    const valueProblem = envValueProblem(value);
    if (valueProblem !== undefined) throw invalid(`${field}[${index}].value`, `the value of ${name} ${valueProblem}`);
    env[name] = value;
  });
  return env;
}

export function checkIntRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalid(field, `expected an integer ${min}..${max}, got ${value}`);
  return value;
}
