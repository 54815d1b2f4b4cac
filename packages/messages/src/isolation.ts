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
});
export type Isolation = z.infer<typeof isolationSchema>;

/**
 * Isolation in a few words for `kraken nodes`, the Nodes page and the agent's log: "container,
 * limits"; "runs as user kraken-app, limits"; "runs as the agent's user, no limits".
 */
export function describeIsolation(isolation: Isolation): string {
  const who = isolation.runsAs === AppUser.Container ? 'container' : isolation.user === undefined ? "runs as the agent's user" : `runs as user ${isolation.user}`;
  return `${who}, ${isolation.limits ? 'limits' : 'no limits'}`;
}
