import { z } from 'zod';
import { oneOf } from './fields.js';

/** Whose account a node's apps run under. */
export const AppUser = {
  /**
   * Processes of the agent's machine: as the agent's own user (an app can read the agent's data
   * dir and signal the agent), or, when `user` names one, as that unprivileged user.
   */
  Agent: 'agent',
  /** The container's user, inside a container of its own. */
  Container: 'container',
} as const;
export type AppUser = (typeof AppUser)[keyof typeof AppUser];

/** The longest reason a node gives for enforcing less; `fitIsolation` cuts a longer one to fit. */
export const MAX_REASON_LENGTH = 300;

/**
 * What a node's runtime enforces on the apps it runs, sent in every heartbeat so that people see
 * what they trust an app with, and placement can one day refuse limited apps where limits are
 * not enforced.
 */
export const isolationSchema = z.object({
  runsAs: oneOf([AppUser.Agent, AppUser.Container]),
  /**
   * The dedicated unprivileged user the process runtime runs apps as (runsAs `agent`); absent:
   * the agent's own user. A field rather than a new runsAs value so that orchestrators older than
   * it still decode the heartbeat (they drop it, and understate what the node enforces).
   */
  user: z.string({ error: 'expected a user name' }).min(1, { error: 'expected a user name' }).max(64, { error: 'expected a user name' }).optional(),
  /** Memory and CPU limits from the manifest or the request hold. */
  limits: z.boolean({ error: 'expected a boolean' }),
  /** Why apps run as the agent's own user where a dedicated one was wanted or turned off (no `user`). */
  userWhyNot: z.string({ error: 'expected a reason' }).max(MAX_REASON_LENGTH, { error: `expected a reason of at most ${String(MAX_REASON_LENGTH)} characters` }).optional(),
  /** Why limits do not hold (`limits` false): no control groups this agent may create, say. */
  limitsWhyNot: z.string({ error: 'expected a reason' }).max(MAX_REASON_LENGTH, { error: `expected a reason of at most ${String(MAX_REASON_LENGTH)} characters` }).optional(),
});
export type Isolation = z.infer<typeof isolationSchema>;

/**
 * Isolation in a few words for `kraken nodes`, the Nodes page and the agent's log: "container,
 * limits"; "runs as user kraken-app, limits"; "runs as the agent's user, no limits". With
 * `reasons`, what the node said of why it enforces less follows: "runs as the agent's user, no
 * limits: <why not a user of their own>; <why no limits>".
 */
export function describeIsolation(isolation: Isolation, options: { reasons?: boolean } = {}): string {
  const who = isolation.runsAs === AppUser.Container ? 'container' : isolation.user === undefined ? "runs as the agent's user" : `runs as user ${isolation.user}`;
  const short = `${who}, ${isolation.limits ? 'limits' : 'no limits'}`;
  if (options.reasons !== true) return short;
  const reasons = [
    isolation.runsAs === AppUser.Agent && isolation.user === undefined ? isolation.userWhyNot : undefined,
    isolation.limits ? undefined : isolation.limitsWhyNot,
  ].filter((reason): reason is string => reason !== undefined);
  return reasons.length === 0 ? short : `${short}: ${reasons.join('; ')}`;
}

/** `isolation` with each reason cut to fit its field (marked where it was cut), as a heartbeat carries it. */
export function fitIsolation(isolation: Isolation): Isolation {
  const fit = (reason: string) => (reason.length <= MAX_REASON_LENGTH ? reason : `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`);
  return {
    ...isolation,
    ...(isolation.userWhyNot === undefined ? {} : { userWhyNot: fit(isolation.userWhyNot) }),
    ...(isolation.limitsWhyNot === undefined ? {} : { limitsWhyNot: fit(isolation.limitsWhyNot) }),
  };
}
