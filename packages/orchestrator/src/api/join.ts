import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import express from 'express';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { ID_PATTERN, PROTOCOL_VERSION, parseJoinRequest } from '@kraken/messages';
import type { BrokerClusterGrant, JoinAnswer } from '@kraken/messages';
import type { Orchestrator } from '../orchestrator.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DataKey } from '../data-key.js';
import { pulseKeyFor } from '../liveness/pulse.js';
import { parseJoinToken } from '@kraken/trust';
import { TokenCheck } from './auth.js';
import { sendError } from './rest.js';
import { STORE_FILE } from '../store/store-file.js';

/** How this orchestrator lets agents join its cluster (`POST /join`). */
export interface JoinOptions {
  /** The cluster's join token, which a new node presents (not the API token). */
  token: string;
  /** Names the cluster; sent back on join and in `/ping`'s `x-kraken-cluster-id` header. */
  clusterId: string;
  /** The broker URL, with credentials for that node, that a node that joined connects with. */
  brokerUrlFor(nodeId: string): string | Promise<string>;
  /**
   * For a node that asks to run a RabbitMQ node of its own (it may lead one day): what it needs to
   * join the cluster's RabbitMQ cluster. Undefined when this cluster's broker is not one agents run.
   */
  brokerClusterFor?: ((nodeId: string) => Promise<BrokerClusterGrant>) | undefined;
  /**
   * The cluster's data key, handed with a RabbitMQ membership (to a node that may lead one day, so
   * it can open the sealed secrets of its copy of the store) and to no one else.
   */
  dataKey?: DataKey | undefined;
  /** Every node of the cluster's broker (`host:port`), so a joined node can fall back on another. */
  brokerEndpoints?: (() => Promise<string[]>) | undefined;
  /**
   * Issues a node's certificate from the cluster CA for the names it asked for. Undefined where the
   * API serves no TLS (`--insecure-no-tls`): the node gets none.
   */
  issueCertificate?: ((nodeId: string, names: readonly string[]) => Promise<NonNullable<JoinAnswer['tls']>>) | undefined;
}

export interface JoinRouterOptions {
  join: JoinOptions | undefined;
  orchestrator: Orchestrator;
  store: OrchestratorStore;
  logger: Logger;
}

/** Join requests are a few short fields and the node's names for its certificate; anything bigger is not one. */
const MAX_JOIN_BODY = '32kb';

/** Checks the join options when the server is built, so a bad configuration fails at start. */
export function checkJoinOptions(join: JoinOptions): void {
  if (!ID_PATTERN.test(join.clusterId)) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `join.clusterId must be 1-64 characters from [A-Za-z0-9._-], got ${JSON.stringify(join.clusterId.slice(0, 80))}`,
    );
  }
}

/** Says which side to update when a node's protocol major differs from the orchestrator's. */
export function protocolMismatch(nodeId: string, nodeMajor: number, orchestratorMajor: number): string {
  const update = nodeMajor < orchestratorMajor ? `update the node ${nodeId} (its Kraken agent)` : 'update the orchestrator';
  return `node ${nodeId} speaks protocol version ${nodeMajor}, this orchestrator speaks ${orchestratorMajor}: ${update} so both speak the same version`;
}

/**
 * `POST /join` with `{ token, nodeId, protocolVersion, brokerNode? }`: a node presents the cluster's
 * join token and gets what it needs to take part (its broker URL, the cluster id, the leader and its
 * epoch; with `brokerNode`, what its own RabbitMQ node needs to join the cluster's).
 * No API token: the join token is the credential. Without join options, joins are refused (404).
 */
export function joinRouter(options: JoinRouterOptions): express.Router {
  const { join, orchestrator } = options;
  const logger = options.logger;
  const tokens = join === undefined ? undefined : new TokenCheck(join.token, 'join token');
  const router = express.Router();

  router.post('/join', express.json({ limit: MAX_JOIN_BODY }), async (req: Request, res) => {
    if (join === undefined || tokens === undefined) {
      sendError(req, res, 404, ErrorCode.NotFound, 'this orchestrator does not accept joins');
      return;
    }
    const body: unknown = req.body;
    // the token first: who may not join learns nothing about what else was wrong
    const { token, nodeId: claimedNode } = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const remote = req.socket.remoteAddress ?? 'unknown';
    const refusal =
      typeof token !== 'string' || token === ''
        ? 'missing join token: send { "token": "<the cluster join token>" }'
        : tokens.matches(secretOf(token))
          ? undefined
          : 'invalid join token';
    if (refusal !== undefined) {
      logger.warn('refused a join', { nodeId: typeof claimedNode === 'string' ? claimedNode.slice(0, 80) : undefined, remote, reason: refusal });
      sendError(req, res, 401, ErrorCode.Unauthorized, refusal);
      return;
    }
    const parsed = parseJoinRequest(body);
    if (!parsed.ok) {
      sendError(req, res, 400, ErrorCode.InvalidInput, parsed.error.message, parsed.error.field === undefined ? {} : { details: { field: parsed.error.field } });
      return;
    }
    const { nodeId, protocolVersion: major, brokerNode, certificateNames } = parsed.value;
    if (major !== PROTOCOL_VERSION) {
      const message = protocolMismatch(nodeId, major, PROTOCOL_VERSION);
      logger.warn('refused a join: protocol versions differ', {
        nodeId,
        remote,
        nodeProtocol: major,
        protocol: PROTOCOL_VERSION,
      });
      sendError(req, res, 409, ErrorCode.UnsupportedVersion, message, {
        nodeId,
        details: { nodeProtocolVersion: major, orchestratorProtocolVersion: PROTOCOL_VERSION },
      });
      return;
    }

    if (!orchestrator.leads) {
      // a former leader winding down: a RabbitMQ node that joined its (paused, minority) node would
      // leave the healthy cluster, so the joining agent waits and asks again (see joinWhenReachable)
      logger.warn('refused a join: this agent no longer leads the cluster', { nodeId, remote });
      sendError(req, res, 503, ErrorCode.Unavailable, `${orchestrator.nodeId} no longer leads this cluster; ask again in a few seconds or join through the current leader`, {
        nodeId,
        details: { notLeader: true },
      });
      return;
    }
    const membership = brokerNode === true && join.brokerClusterFor !== undefined ? await join.brokerClusterFor(nodeId) : undefined;
    const brokerCluster = membership === undefined || join.dataKey === undefined ? membership : { ...membership, dataKey: join.dataKey.toText() };
    const answer: JoinAnswer = {
      clusterId: join.clusterId,
      brokerUrl: await join.brokerUrlFor(nodeId),
      ...(brokerCluster === undefined ? {} : { brokerCluster }),
      ...(join.brokerEndpoints === undefined ? {} : { brokerEndpoints: await join.brokerEndpoints() }),
      orchestratorNodeId: orchestrator.nodeId,
      epoch: orchestrator.epoch,
      protocolVersion: PROTOCOL_VERSION,
      ...(join.dataKey === undefined ? {} : { pulseKey: pulseKeyFor(join.dataKey, nodeId).toString('base64url') }),
      ...(certificateNames === undefined || certificateNames.length === 0 || join.issueCertificate === undefined
        ? {}
        : { tls: await join.issueCertificate(nodeId, certificateNames) }),
    };
    logger.info('node joined', { nodeId, remote, brokerMember: brokerCluster !== undefined });
    // the answer carries broker credentials
    res.setHeader('cache-control', 'no-store');
    res.json(answer);
  });

  /**
   * `GET /replication/snapshot` (`Authorization: Bearer <join token>`): the whole store as a SQLite
   * file, for a standby to start its copy from (then it follows every change through the broker).
   */
  router.get('/replication/snapshot', async (req: Request, res) => {
    if (join === undefined || tokens === undefined) {
      sendError(req, res, 404, ErrorCode.NotFound, 'this orchestrator does not accept joins');
      return;
    }
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (presented === undefined || !tokens.matches(secretOf(presented))) {
      logger.warn('refused a snapshot request', { remote: req.socket.remoteAddress, reason: presented === undefined ? 'no join token' : 'invalid join token' });
      sendError(req, res, 401, ErrorCode.Unauthorized, 'a snapshot needs the join token: Authorization: Bearer <join token>');
      return;
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'kraken-snapshot-'));
    try {
      const file = path.join(dir, STORE_FILE);
      const seq = await options.store.backupTo(file);
      res.setHeader('x-kraken-change-seq', String(seq));
      res.setHeader('cache-control', 'no-store');
      res.type('application/vnd.sqlite3');
      await pipeline(createReadStream(file), res);
      logger.info('sent a snapshot of the store', { seq, remote: req.socket.remoteAddress });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  return router;
}

/**
 * The secret of a join token as a node may send it: whole as the leader printed it
 * (`K1.<CA digest>.<secret>`), or the secret alone. The digest is the joiner's to check, not ours;
 * what is neither is compared as it is, and fails.
 */
function secretOf(token: string): string {
  try {
    return parseJoinToken(token).secret;
  } catch {
    return token;
  }
}
