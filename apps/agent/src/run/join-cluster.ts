import { ErrorCode, KrakenError } from '@kraken/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch } from 'undici';
import type { Logger } from '@kraken/common';
import { parseJoinToken, trustedCaAt } from '@kraken/trust';
import { PROTOCOL_VERSION, parseJoinAnswer } from '@kraken/messages';
import type { JoinAnswer, JoinRequest } from '@kraken/messages';

/** Trades the cluster's join token for the broker this node should use (POST /join). */
export async function joinCluster(request: {
  url: string;
  token: string | undefined;
  nodeId: string;
  timeoutMs?: number;
  /** The protocol version this node announces. @default PROTOCOL_VERSION */
  protocolVersion?: number;
  /** This node can run a RabbitMQ node and may lead: it asks to join the cluster's RabbitMQ cluster. */
  brokerNode?: boolean;
  /** The names this node serves the API on, for the certificate the leader issues it; undefined: it serves no TLS. */
  certificateNames?: readonly string[] | undefined;
  /** Warns when the token carries no CA digest, so the leader is trusted on first use. */
  logger?: Logger;
}): Promise<JoinAnswer> {
  const { token, nodeId, protocolVersion = PROTOCOL_VERSION } = request;
  if (token === undefined) {
    throw new KrakenError(ErrorCode.InvalidConfig, `joining ${request.url} needs the cluster's join token: give --join-token (the orchestrator printed it at its first start)`);
  }
  const { secret, caDigest } = readToken(token);
  // a cluster that serves TLS does so on every address (mDNS adverts and --join may say http): an
  // agent that serves TLS itself, or holds a token naming the CA, asks over TLS
  const secure = caDigest !== undefined || request.certificateNames !== undefined;
  const url = secure ? request.url.replace(/^http:/, 'https:') : request.url;
  const target = new URL('/join', url);
  let dispatcher: Agent | undefined;
  if (target.protocol === 'https:') {
    // the leader proves it holds the cluster CA before it gets the token (or anything else)
    const ca = await trustedCaAt({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 443) }, caDigest);
    if (caDigest === undefined) {
      request.logger?.warn('the join token carries no CA digest, so the leader was not verified: trusting the CA it presented on first use. Join with the token `kraken token` prints on the leader (K1.<digest>.<secret>) to verify it', { url });
    }
    dispatcher = new Agent({ connect: { ca } });
  }
  const joinRequest: JoinRequest = {
    token: secret,
    nodeId,
    protocolVersion,
    ...(request.brokerNode === true ? { brokerNode: true } : {}),
    ...(request.certificateNames === undefined || target.protocol !== 'https:' ? {} : { certificateNames: [...request.certificateNames] }),
  };
  let response: Awaited<ReturnType<typeof fetch>>;
  let body: Record<string, unknown> | undefined;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(joinRequest),
      // a leader making broker users for several machines joining at once takes a few seconds each
      signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
      ...(dispatcher === undefined ? {} : { dispatcher }),
    }).catch((error: unknown) => {
      throw new KrakenError(ErrorCode.Unavailable, `cannot reach the orchestrator at ${url}: ${describeFetchError(error)}`, {
        cause: error,
        details: { unreachable: true },
      });
    });
    body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  } finally {
    // the answer is read: its connection (and the CA pinned for it) is of no further use, refused or not
    await dispatcher?.close();
  }
  const said = refusalMessage(body) ?? `HTTP ${response.status}`;
  if (response.status === 401 || response.status === 403) {
    throw new KrakenError(ErrorCode.Unauthorized, `the orchestrator at ${url} refused the join token: ${said}`);
  }
  if (response.status === 409) throw new KrakenError(ErrorCode.UnsupportedVersion, `the orchestrator at ${url} refused this node: ${said}`);
  if (!response.ok) {
    // a leader that just lost its lease refuses joins for a while: worth asking again, like one not reachable yet
    const notLeader = response.status === 503 && isNotLeader(body);
    throw new KrakenError(ErrorCode.Unavailable, `the orchestrator at ${url} did not accept the join: ${said}`, notLeader ? { details: { unreachable: true, notLeader: true } } : {});
  }
  const answer = parseJoinAnswer(body);
  if (!answer.ok)
    throw new KrakenError(ErrorCode.Internal, `the orchestrator at ${url} answered the join with ${answer.error.message}`);
  return answer.value;
}

/**
 * Joins, waiting while the orchestrator cannot be reached at all: one found by mDNS announces as soon
 * as it decides to lead, seconds before its API answers (it starts its RabbitMQ node first). A refusal
 * (wrong token, another protocol) is final at once.
 */
export async function joinWhenReachable(
  request: Parameters<typeof joinCluster>[0],
  options: { patienceMs: number; onWaiting?: (error: KrakenError, attempt: number) => void },
): Promise<JoinAnswer> {
  const deadline = Date.now() + options.patienceMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await joinCluster(request);
    } catch (error) {
      const unreachable = error instanceof KrakenError && error.details?.['unreachable'] === true;
      if (!unreachable || Date.now() >= deadline) throw error;
      options.onWaiting?.(error, attempt);
      await sleep(Math.min(2_000, 250 * attempt));
    }
  }
}

function isNotLeader(body: Record<string, unknown> | undefined): boolean {
  const error = body?.['error'];
  const details = typeof error === 'object' && error !== null ? (error as Record<string, unknown>)['details'] : undefined;
  return typeof details === 'object' && details !== null && (details as Record<string, unknown>)['notLeader'] === true;
}

/** The orchestrator's reason: its API answers `{ error: { code, message } }`; plainer shapes are read too. */
function refusalMessage(body: Record<string, unknown> | undefined): string | undefined {
  const error = body?.['error'];
  if (typeof error === 'object' && error !== null && typeof (error as Record<string, unknown>)['message'] === 'string') {
    return (error as Record<string, string>)['message'];
  }
  if (typeof body?.['message'] === 'string') return body['message'];
  return typeof error === 'string' ? error : undefined;
}

export function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) return cause.message;
    if (error.name === 'TimeoutError') return 'no answer in time';
    return error.message;
  }
  return String(error);
}

/** The token's secret and CA digest; a token that is not one is the operator's to fix, so it is said at once. */
function readToken(token: string): { secret: string; caDigest: string | undefined } {
  try {
    return parseJoinToken(token);
  } catch (error) {
    throw new KrakenError(ErrorCode.InvalidConfig, (error as Error).message, { cause: error });
  }
}
