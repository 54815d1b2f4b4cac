import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { Candidate } from '@kraken/discovery';
import { joinCandidate, orderCandidates } from '@kraken/discovery';

/** Lead a new cluster, or join one of these orchestrators, tried in this order. */
export type Role =
  | {
      kind: 'lead';
      /** Orchestrators found that this agent could not join, having no join token. */
      passedOver: readonly Candidate[];
      /** A member of a cluster that found no leader for a while: it leads only if the lease is free. */
      competing?: true;
    }
  | { kind: 'join'; candidates: readonly Candidate[] };

export interface RoleInput {
  /** An explicit `--join URL` wins over discovery, and is then the only candidate. */
  join?: string | undefined;
  /** 2 and above never lead. */
  priority: number;
  /**
   * Without a join token this agent can join none of the orchestrators it finds: one that may lead
   * then founds its own cluster, as a second class or lab on the LAN does with `kraken agent` alone.
   * @default true
   */
  hasJoinToken?: boolean;
  /**
   * The cluster this machine led before (its id is in the data dir's secrets): without a join token,
   * an orchestrator of that cluster found now (a standby that took over while this machine was away
   * or cut off) is joined with the stored token rather than challenged by a second cluster.
   */
  ownClusterId?: string | undefined;
  /** Agents that may not lead keep looking this long before giving up. @default 0 (one round) */
  waitForLeaderMs?: number;
  /**
   * An agent that may lead keeps looking this long before it leads: one that just lost the lease
   * gives the standby that took over time to be found. @default 0 (one round)
   */
  followFirstMs?: number;
  /**
   * This machine keeps its cluster's state and found no leader for a while: it competes for the
   * lease (whoever holds it leads), with or without --join. Never for priority 2 and above.
   */
  competeForLease?: boolean;
  /**
   * An agent of a cluster looking for its leader again: a `--join` URL names one machine, which may
   * be the one that is gone, so discovery is asked too (once) and what it finds is tried after it.
   */
  lookBeyondJoin?: boolean;
  /** Told before each further round of looking. */
  onStillLooking?: (round: number) => void;
  /** The shortest time one round of looking takes. @default 2_000 */
  minRoundMs?: number;
}

/** A round of looking for an orchestrator takes at least this long. */
const MIN_ROUND_MS = 2_000;

/** Ways to find running orchestrators; each resolves to every one it found, in its own order. */
export interface OrchestratorFinders {
  mdns?: () => Promise<readonly Candidate[]>;
  scan?: () => Promise<readonly Candidate[]>;
}

/**
 * ARCHITECTURE "Roles": given or discovered orchestrators make this agent a worker; finding none
 * makes it the orchestrator, unless its priority says it must never lead. Every finder runs, since
 * the orchestrator that accepts this agent's token may be one only the scan sees.
 */
export async function decideRole(input: RoleInput, finders: OrchestratorFinders): Promise<Role> {
  if (input.competeForLease === true && input.priority < 2) return { kind: 'lead', passedOver: [], competing: true };
  if (input.join !== undefined) {
    const given = joinCandidate(input.join);
    if (input.lookBeyondJoin !== true) return { kind: 'join', candidates: [given] };
    const others = (await findAll(finders)).filter((candidate) => candidate.url !== given.url);
    return { kind: 'join', candidates: [given, ...others] };
  }
  const deadline = Date.now() + (input.priority >= 2 ? (input.waitForLeaderMs ?? 0) : (input.followFirstMs ?? 0));
  for (let round = 1; ; round++) {
    const roundStarted = Date.now();
    const candidates = await findAll(finders);
    if (candidates.length > 0) {
      if (input.hasJoinToken === false && input.priority < 2) {
        const ownCluster = candidates.filter((candidate) => input.ownClusterId !== undefined && candidate.clusterId === input.ownClusterId);
        return ownCluster.length > 0 ? { kind: 'join', candidates: ownCluster } : { kind: 'lead', passedOver: candidates };
      }
      return { kind: 'join', candidates };
    }
    if (Date.now() >= deadline || (finders.mdns === undefined && finders.scan === undefined)) break;
    input.onStillLooking?.(round);
    // finders answer at once where the network is down: look again after a pause, not in a busy loop
    const rest = Math.min(input.minRoundMs ?? MIN_ROUND_MS, deadline - Date.now()) - (Date.now() - roundStarted);
    if (rest > 0) await sleep(rest);
  }
  if (input.priority >= 2) {
    throw new KrakenError(
      ErrorCode.Unavailable,
      `no orchestrator found and this agent has priority ${input.priority}, so it never leads: start an orchestrator first, or give --join URL`,
    );
  }
  return { kind: 'lead', passedOver: [] };
}

/** Every orchestrator the finders found, in the order to try them (see orderCandidates). */
async function findAll(finders: OrchestratorFinders): Promise<readonly Candidate[]> {
  const found = await Promise.all([finders.mdns?.() ?? [], finders.scan?.() ?? []]);
  return orderCandidates(found.flat());
}

/** What the agent says once its role is decided. */
export function roleSummary(role: Role): { message: string; fields: Record<string, unknown> } {
  if (role.kind === 'join')
    return { message: 'orchestrators to try', fields: { candidates: role.candidates.map(describeCandidate) } };
  if (role.competing === true) return { message: 'no leader found for a while: this machine keeps the cluster\'s state, so it competes for the lease to lead', fields: {} };
  if (role.passedOver.length === 0) return { message: 'no orchestrator found: leading this cluster', fields: {} };
  return {
    message: 'leading a new cluster: without --join-token this agent joins none of the orchestrators found',
    fields: { passedOver: role.passedOver.map(describeCandidate) },
  };
}

function describeCandidate(candidate: Candidate): string {
  return candidate.clusterId === undefined ? candidate.url : `${candidate.url} (cluster ${candidate.clusterId})`;
}

