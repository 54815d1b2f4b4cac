import { ErrorCode, KrakenError } from '@kraken/common';
import { DeploymentStatus as Status, envNameProblem } from '@kraken/messages';
import type { DeploymentRecord } from '../store/records.js';

/** The most variables one deployment may have (createDeployment's limit too). */
export const MAX_ENV_VARS = 200;

/** A change of a deployment's environment: variables to set (new or changed) and names to remove. */
export interface EnvChange {
  /** Already validated (names and values), e.g. by the API's envFromInput. */
  readonly set: Readonly<Record<string, string>>;
  readonly unset: readonly string[];
}

/** What to do with a change: restart the running app with it, or keep it for the next deploy. */
type EnvChangeEffect = 'restart' | 'store';

export interface PlannedEnvChange {
  /** The whole environment after the change. */
  readonly env: Record<string, string>;
  readonly effect: EnvChangeEffect;
  /** Names only ("set GREETING, PORT; unset DEBUG"): values are secrets and never appear in messages or logs. */
  readonly summary: string;
}

/**
 * Checks a change against a deployment and says what it leads to. A running app restarts with the
 * new values from the build it runs; an errored one keeps them for its next deploy (a missing
 * variable is a common reason an app fails, so fixing it must not need a new deployment). Any other
 * status is refused with a Conflict: a deploy in progress would race with the restart, and a
 * destroyed or removed deployment has nothing to run them.
 */
export function planEnvChange(deployment: DeploymentRecord, change: EnvChange): PlannedEnvChange {
  const id = deployment.id;
  const setNames = Object.keys(change.set);
  if (setNames.length === 0 && change.unset.length === 0) throw invalid(id, 'unset', 'nothing to change: give variables to set or names to unset');
  const env: Record<string, string> = { ...deployment.env };
  const unset = new Set<string>();
  change.unset.forEach((name, index) => {
    const problem = envNameProblem(name);
    if (problem !== undefined) throw invalid(id, `unset[${String(index)}]`, problem);
    if (Object.hasOwn(change.set, name)) throw invalid(id, `unset[${String(index)}]`, `${name} is both set and unset; give it once`);
    if (!Object.hasOwn(env, name)) throw invalid(id, `unset[${String(index)}]`, `${name} is not set on deployment ${id}${namesOf(env)}`);
    unset.add(name);
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the record is a copy keyed by validated names
    delete env[name];
  });
  Object.assign(env, change.set);
  const count = Object.keys(env).length;
  if (count > MAX_ENV_VARS) throw invalid(id, 'set', `at most ${String(MAX_ENV_VARS)} variables per deployment; this change leaves ${String(count)}`);
  return { env, effect: effectFor(deployment), summary: envChangeSummary(setNames, [...unset]) };
}

/** "set A, B; unset C": the names a change touches, for status messages and logs. */
export function envChangeSummary(set: readonly string[], unset: readonly string[]): string {
  const parts: string[] = [];
  if (set.length > 0) parts.push(`set ${[...set].sort().join(', ')}`);
  if (unset.length > 0) parts.push(`unset ${[...unset].sort().join(', ')}`);
  return parts.join('; ');
}

function effectFor(deployment: DeploymentRecord): EnvChangeEffect {
  const { id, status } = deployment;
  if (deployment.removedAt !== null) {
    throw new KrakenError(ErrorCode.Conflict, `deployment ${id} was removed; its settings can no longer change`, { deploymentId: id });
  }
  if (status === Status.Running) return 'restart';
  if (status === Status.Errored) return 'store';
  const why =
    status === Status.Destroyed || status === Status.DestructionRequested || status === Status.DelegatingDestruction || status === Status.DestructionInProgress
      ? 'it is destroyed or being destroyed; deploy its repository again instead'
      : 'a deploy is in progress; change them once it is Running (or Errored)';
  throw new KrakenError(ErrorCode.Conflict, `cannot change the settings of deployment ${id} while it is ${status}: ${why}`, { deploymentId: id, details: { status } });
}

function namesOf(env: Record<string, string>): string {
  const names = Object.keys(env).sort();
  return names.length === 0 ? ' (it has no variables)' : ` (it has ${names.join(', ')})`;
}

function invalid(deploymentId: string, field: string, message: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `${field}: ${message}`, { deploymentId, details: { field } });
}
