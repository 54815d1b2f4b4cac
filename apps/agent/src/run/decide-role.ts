import { ErrorCode, KrakenError } from '@kraken/common';

export type RoleSource = 'join' | 'mdns' | 'scan';

export type Role = { kind: 'lead' } | { kind: 'join'; url: string; source: RoleSource };

export interface RoleInput {
  /** An explicit `--join URL` wins over discovery. */
  join?: string | undefined;
  /** 2 and above never lead. */
  priority: number;
  /** Agents that may not lead keep looking this long before giving up. @default 0 (one round) */
  waitForLeaderMs?: number;
  /** Told before each further round of looking. */
  onStillLooking?: (round: number) => void;
}

/** Ways to find a running orchestrator, tried in order; each resolves to its URL or undefined. */
export interface OrchestratorFinders {
  mdns?: () => Promise<string | undefined>;
  scan?: () => Promise<string | undefined>;
}

/**
 * ARCHITECTURE "Roles": a given or discovered orchestrator makes this agent a worker; finding
 * none makes it the orchestrator, unless its priority says it must never lead.
 */
export async function decideRole(input: RoleInput, finders: OrchestratorFinders): Promise<Role> {
  if (input.join !== undefined) return { kind: 'join', url: input.join, source: 'join' };
  const deadline = Date.now() + (input.priority >= 2 ? (input.waitForLeaderMs ?? 0) : 0);
  for (let round = 1; ; round++) {
    for (const source of ['mdns', 'scan'] as const) {
      const find = finders[source];
      if (find === undefined) continue;
      const url = await find();
      if (url !== undefined) return { kind: 'join', url, source };
    }
    if (Date.now() >= deadline || (finders.mdns === undefined && finders.scan === undefined)) break;
    input.onStillLooking?.(round);
  }
  if (input.priority >= 2) {
    throw new KrakenError(
      ErrorCode.Unavailable,
      `no orchestrator found and this agent has priority ${input.priority}, so it never leads: start an orchestrator first, or give --join URL`,
    );
  }
  return { kind: 'lead' };
}
