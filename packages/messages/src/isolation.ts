import { z } from 'zod';
import { oneOf } from './fields.js';

/** Whose account a node's apps run under. */
export const AppUser = {
  /** The agent's own user: an app can read the agent's data dir and signal the agent. */
  Agent: 'agent',
  /** The container's user, inside a container of its own. */
  Container: 'container',
} as const;
export type AppUser = (typeof AppUser)[keyof typeof AppUser];

/**
 * What a node's runtime enforces on the apps it runs, sent in every heartbeat so that people see
 * what they trust an app with, and placement can one day refuse limited apps where limits are
 * not enforced. New kinds of user (a dedicated unprivileged account) join AppUser.
 */
export const isolationSchema = z.object({
  runsAs: oneOf([AppUser.Agent, AppUser.Container]),
  /** Memory and CPU limits from the manifest or the request hold. */
  limits: z.boolean({ error: 'expected a boolean' }),
});
export type Isolation = z.infer<typeof isolationSchema>;

/**
 * Isolation in a few words for `kraken nodes`, the Nodes page and the agent's log: "container,
 * limits"; "runs as the agent's user, no limits".
 */
export function describeIsolation(isolation: Isolation): string {
  const who = isolation.runsAs === AppUser.Container ? 'container' : "runs as the agent's user";
  return `${who}, ${isolation.limits ? 'limits' : 'no limits'}`;
}
