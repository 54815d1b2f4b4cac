import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';
import type { Candidate } from '@kraken/discovery';
import type { JoinAnswer } from '@kraken/messages';

/** One orchestrator that did not take this agent, and its answer. */
export interface JoinRefusal {
  candidate: Candidate;
  error: KrakenError;
}

export interface JoinFirstAcceptingInput {
  /** In the order to try them (see `orderCandidates` of @kraken/discovery). */
  candidates: readonly Candidate[];
  /** Joins one candidate or throws why it refused (`joinCluster` in the agent). */
  join: (candidate: Candidate) => Promise<JoinAnswer>;
  logger: Logger;
}

export interface JoinedCluster {
  grant: JoinAnswer;
  /** The orchestrator that accepted. */
  candidate: Candidate;
  /** Those tried before it, in order. */
  refusals: readonly JoinRefusal[];
}

/**
 * How close a refusal came to an acceptance. The orchestrator checks the token before the protocol
 * version, so a protocol refusal means the token was right (this agent's own cluster, needing an
 * update); an orchestrator that could not be reached may be this agent's cluster; a refused token
 * says it is not. The closest one decides the error (and so the exit code) when all refuse.
 */
const closeness: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.UnsupportedVersion]: 3,
  [ErrorCode.Unavailable]: 1,
  [ErrorCode.Timeout]: 1,
  [ErrorCode.Unauthorized]: 0,
};
const otherRefusal = 2; // it answered the join, but not as expected

/** Errors about this agent itself: every orchestrator would refuse it alike, so trying on is pointless. */
export const ownFaults: readonly ErrorCode[] = [ErrorCode.InvalidConfig, ErrorCode.InvalidInput];

/** A cluster that answered the token or the protocol check refuses at every address of it alike. */
export const clusterWideRefusals: readonly ErrorCode[] = [ErrorCode.Unauthorized, ErrorCode.UnsupportedVersion];

/**
 * Tries the candidates in order until one accepts this agent, logging each refusal with the
 * orchestrator's URL, cluster id (when known) and reason. Several clusters can share a LAN, so the
 * first orchestrator found may well be another cluster's. When all refuse, the error lists every
 * refusal; with one candidate, it is that candidate's own error.
 */
export async function joinFirstAccepting(input: JoinFirstAcceptingInput): Promise<JoinedCluster> {
  const { candidates, join, logger } = input;
  const refusals: JoinRefusal[] = [];
  const refusedClusters = new Set<string>();
  for (const candidate of candidates) {
    const about = describe(candidate);
    if (candidate.clusterId !== undefined && refusedClusters.has(candidate.clusterId)) {
      logger.info(`not trying the orchestrator at ${candidate.url}: its cluster already refused this agent`, about);
      continue;
    }
    logger.info(`joining the orchestrator at ${candidate.url}`, about);
    try {
      const grant = await join(candidate);
      if (refusals.length > 0) {
        logger.info(`joined the orchestrator at ${candidate.url} after ${String(refusals.length)} refused`, {
          ...about,
          refusedBy: refusals.map((refusal) => refusal.candidate.url),
        });
      }
      return { grant, candidate, refusals };
    } catch (thrown) {
      const error = toKrakenError(thrown);
      if (ownFaults.includes(error.code)) throw error;
      refusals.push({ candidate, error });
      logger.warn(`the orchestrator at ${candidate.url} refused this agent`, {
        ...about,
        code: error.code,
        reason: error.message,
      });
      if (candidate.clusterId !== undefined && clusterWideRefusals.includes(error.code)) refusedClusters.add(candidate.clusterId);
    }
  }
  throw noneAccepted(refusals);
}

function describe(candidate: Candidate): Record<string, string> {
  return {
    url: candidate.url,
    found: candidate.source,
    ...(candidate.clusterId === undefined ? {} : { clusterId: candidate.clusterId }),
  };
}

function noneAccepted(refusals: readonly JoinRefusal[]): KrakenError {
  const [only] = refusals;
  if (only === undefined) return new KrakenError(ErrorCode.Unavailable, 'no orchestrator to join');
  if (refusals.length === 1) return only.error;
  const closest = refusals.reduce((best, refusal) => (rank(refusal) > rank(best) ? refusal : best));
  const listed = refusals.map(({ candidate, error }) => {
    const where =
      candidate.clusterId === undefined
        ? `found by ${candidate.source}`
        : `cluster ${candidate.clusterId}, found by ${candidate.source}`;
    return `${error.message} (${where})`;
  });
  const hint = refusals.every((refusal) => refusal.error.code === ErrorCode.Unauthorized)
    ? ': check --join-token (the orchestrator of the cluster to join printed it at its first start)'
    : '';
  return new KrakenError(
    closest.error.code,
    `none of the ${String(refusals.length)} orchestrators found accepted this agent${hint}; ${listed.join('; ')}`,
    {
      details: {
        refusals: refusals.map(({ candidate, error }) => ({
          url: candidate.url,
          clusterId: candidate.clusterId,
          code: error.code,
          reason: error.message,
        })),
      },
    },
  );
}

function rank(refusal: JoinRefusal): number {
  return closeness[refusal.error.code] ?? otherRefusal;
}
