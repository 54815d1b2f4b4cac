import { once } from 'node:events';
import type { Request, RequestHandler, Response } from 'express';
import express from 'express';
import { ErrorCode, KrakenError, isoTime, redactCredentials } from '@kraken/common';
import { PROTOCOL_VERSION } from '@kraken/messages';
import type { Clock, Logger } from '@kraken/common';
import type { Orchestrator } from '../orchestrator.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { StoredLogLine } from '../store/records.js';
import type { TokenCheck } from './auth.js';
import { checkId } from './input.js';
import { graphiqlPage } from './pages.js';
import { maskedEnv } from './views.js';

export interface RestOptions {
  orchestrator: Orchestrator;
  store: OrchestratorStore;
  tokens: TokenCheck;
  logger: Logger;
  clock: Clock;
  /** Sent in `/ping`'s `x-kraken-cluster-id` header, when known. */
  clusterId?: string;
}

const LOG_CHUNK = 1000;

/**
 * The JSON error body: `{ error: { code, message, ... } }` for REST, and the GraphQL response
 * shape `{ errors: [{ message, extensions: { code } }] }` under /graphql, so GraphQL clients
 * read an auth or size failure like any other error.
 */
export function sendError(
  req: Request,
  res: Response,
  status: number,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const shown = redactCredentials(message);
  if (req.originalUrl.startsWith('/graphql')) res.status(status).json({ errors: [{ message: shown, extensions: { code, ...extra } }] });
  else res.status(status).json({ error: { code, message: shown, ...extra } });
}

export function httpStatusOf(error: KrakenError): number {
  switch (error.code) {
    case ErrorCode.InvalidInput:
      return 400;
    case ErrorCode.Unauthorized:
      return 401;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.Unavailable:
    case ErrorCode.EngineDown:
    case ErrorCode.NoLeader:
      return 503;
    case ErrorCode.Timeout:
      return 504;
    default:
      return 500;
  }
}

export function requireToken(tokens: TokenCheck): RequestHandler {
  return (req, res, next) => {
    const why = tokens.reject(req.headers.authorization);
    if (why === undefined) {
      next();
      return;
    }
    res.setHeader('www-authenticate', 'Bearer realm="kraken"');
    sendError(req, res, 401, ErrorCode.Unauthorized, why);
  };
}

function formatLine(line: StoredLogLine): string {
  return `${line.at} [${line.stream}] ${line.text}\n`;
}

/** Pages through the stored log, waiting on the socket so a huge log never sits in memory. */
async function streamLog(store: OrchestratorStore, deploymentId: string, res: Response): Promise<void> {
  res.status(200).type('text/plain; charset=utf-8');
  let after = 0;
  for (;;) {
    const lines = store.logs.read(deploymentId, { after, limit: LOG_CHUNK });
    if (lines.length === 0 || res.destroyed) break;
    if (!res.write(lines.map(formatLine).join(''))) await once(res, 'drain');
    after = lines[lines.length - 1]?.seq ?? after;
  }
  res.end();
}

/** `/ping`, `/health/:nodeId`, `/log/:deploymentId`, `/export`, `/graphiql`. */
export function restRouter(options: RestOptions): express.Router {
  const { store, orchestrator, tokens, clock } = options;
  const router = express.Router();
  const auth = requireToken(tokens);

  // A subnet scan recognises a Kraken orchestrator (and its cluster) by these headers.
  router.get('/ping', (_req, res) => {
    res.setHeader('x-kraken-protocol', String(PROTOCOL_VERSION));
    if (options.clusterId !== undefined) res.setHeader('x-kraken-cluster-id', options.clusterId);
    res.type('text/plain').send('pong');
  });

  router.get('/graphiql', (_req, res) => {
    res.type('html').send(graphiqlPage);
  });

  // A standby asks this to decide whether it should take over (rollover rank).
  router.get('/health/:nodeId', auth, (req: Request<{ nodeId: string }>, res) => {
    const nodeId = checkId('nodeId', req.params.nodeId);
    const node = store.nodes.get(nodeId);
    if (node === undefined) throw new KrakenError(ErrorCode.NotFound, `no node with id ${nodeId}`, { nodeId });
    res.json({
      nodeId: node.id,
      orchestrationPriority: node.orchestrationPriority,
      state: node.state,
      updateTime: node.updateTime,
      leader: orchestrator.nodeId,
      epoch: orchestrator.epoch,
    });
  });

  router.get('/log/:deploymentId', auth, async (req: Request<{ deploymentId: string }>, res) => {
    const deploymentId = checkId('deploymentId', req.params.deploymentId);
    store.deployments.require(deploymentId);
    await streamLog(store, deploymentId, res);
  });

  router.get('/export', auth, (_req, res) => {
    const snapshot = store.snapshot(() => ({
      exportedAt: isoTime(clock),
      epoch: store.currentEpoch(),
      schemaVersion: store.schemaVersion,
      // removed ones too (with removedAt): they are state until their retention ends
      deployments: store.deployments.list({ includeRemoved: true }).map((deployment) => ({
        ...deployment,
        srcUrl: redactCredentials(deployment.srcUrl),
        statusMessage: deployment.statusMessage === null ? null : redactCredentials(deployment.statusMessage),
        // env values are secrets: the export is for inspection and moving state, not for leaking them
        env: maskedEnv(deployment.env),
        statusHistory: store.deployments.history(deployment.id).map((entry) => ({ ...entry, message: entry.message === null ? null : redactCredentials(entry.message) })),
        logCounters: store.logs.counters(deployment.id),
        releases: orchestrator.releases.list(deployment.id).map((release) => ({ ...release, reason: release.reason === null ? null : redactCredentials(release.reason) })),
      })),
      nodes: store.nodes.list(),
    }));
    res.json(snapshot);
  });

  return router;
}
