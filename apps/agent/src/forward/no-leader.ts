import { ErrorCode, KrakenError } from '@kraken/common';
import type { KnownLeader } from '@kraken/orchestrator';

/** Why an agent that forwards API requests could not hand one to the leader. */
export type NoLeaderReason =
  /** No leader became known to this agent yet. */
  | { kind: 'unknown' }
  /** The known leader did not take the connection (refused, unreachable, timed out). */
  | { kind: 'unreachable'; error: string }
  /** The connection broke after the request was sent: it may have been carried out. */
  | { kind: 'broken'; error: string }
  /** The request already passed through this agent: the agents disagree on who leads. */
  | { kind: 'loop'; path: readonly string[] };

export interface NoLeaderFacts {
  /** The agent answering. */
  agentId: string;
  leader: KnownLeader | undefined;
  /** Since the known leader's last beacon; undefined when none arrived. */
  silentForMs: number | undefined;
  reason: NoLeaderReason;
}

const HEADLINE = 'the cluster has no reachable leader right now';
const RETRY = 'a standby takes over within seconds where the cluster has one: try again shortly';

/**
 * The error an agent answers with when it cannot forward to the leader: it says that the cluster
 * has no reachable leader, which one was last known and why it was not reached.
 */
export function noLeaderError(facts: NoLeaderFacts): KrakenError {
  const { agentId, leader, reason } = facts;
  const known = leader === undefined ? undefined : `${leader.nodeId} at ${leader.apiUrl}${heardAgo(facts.silentForMs)}`;
  const message = ((): string => {
    switch (reason.kind) {
      case 'unknown':
        return `${HEADLINE}: agent ${agentId} forwards API requests to the leader and knows of none yet; ${RETRY}`;
      case 'unreachable':
        return `${HEADLINE}: agent ${agentId} forwards API requests to the leader, and the last known one, ${known ?? 'none'}, does not answer (${reason.error}); ${RETRY}`;
      case 'broken':
        return `${HEADLINE}: the last known leader, ${known ?? 'none'}, stopped answering during the request (${reason.error}), so it may or may not have been carried out; ${RETRY}`;
      case 'loop':
        return `${HEADLINE}: this request went round agents ${[...reason.path, agentId].join(' -> ')}, each taking another for the leader (as during a takeover); ${RETRY}`;
    }
  })();
  return new KrakenError(ErrorCode.NoLeader, message, {
    nodeId: agentId,
    details: {
      lastKnownLeader: leader === undefined ? null : { nodeId: leader.nodeId, apiUrl: leader.apiUrl, ...(facts.silentForMs === undefined ? {} : { lastHeardMsAgo: facts.silentForMs }) },
    },
  });
}

function heardAgo(silentForMs: number | undefined): string {
  return silentForMs === undefined ? '' : ` (last heard from ${(silentForMs / 1000).toFixed(1)} s ago)`;
}

/**
 * The 503 body, in the shape the leader's own API answers errors with: GraphQL's `errors` for
 * `/graphql` (clients read them there), `{ error }` for every other path.
 */
export function noLeaderBody(path: string, error: KrakenError): string {
  const fields = { code: error.code, nodeId: error.nodeId, ...(error.details === undefined ? {} : { details: error.details }) };
  return JSON.stringify(path.startsWith('/graphql') ? { errors: [{ message: error.message, extensions: fields }] } : { error: { message: error.message, ...fields } });
}
