import http from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@kraken/common';
import { ErrorCode, toKrakenError } from '@kraken/common';
import type { Executor } from '../run/executor.js';

/** The agent's control socket, in its data dir. */
export const CONTROL_SOCKET = 'agent.sock';

/** What `kraken promote` gets back once this agent leads. */
export interface PromotionReport {
  nodeId: string;
  /** The RabbitMQ members the cluster goes on without. */
  leftOut: string[];
  tookMs: number;
}

export interface ControlExecutorOptions {
  dataDir: string;
  /** Makes this agent lead without the other machine, or throws why it may not (KrakenError). */
  promote(): Promise<PromotionReport>;
  logger: Logger;
}

/** The longest path a Unix socket may have on Linux (sun_path holds 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

const STATUS_OF: Partial<Record<string, number>> = { [ErrorCode.Conflict]: 409, [ErrorCode.Timeout]: 504 };

/**
 * Requests an operator makes of this machine's own agent (`kraken promote`). They are served on a
 * Unix socket in the data dir (0600), so only who may read the agent's data (its user, root) may
 * make them, and nothing about them crosses the network: promoting is for the machine at hand.
 */
export class ControlExecutor implements Executor {
  readonly name = 'control';
  private server: http.Server | undefined;
  private readonly socketPath: string;

  constructor(private readonly options: ControlExecutorOptions) {
    this.socketPath = path.join(options.dataDir, CONTROL_SOCKET);
  }

  async setup(): Promise<void> {
    const { logger } = this.options;
    if (Buffer.byteLength(this.socketPath) > MAX_SOCKET_PATH) {
      logger.warn('the data dir path is too long for the control socket: `kraken promote` cannot reach this agent', {
        socketPath: this.socketPath,
      });
      return;
    }
    // a socket left by an agent that was killed: nobody listens there any more (the data dir is ours)
    await rm(this.socketPath, { force: true });
    const server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.socketPath, 0o600);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeAllConnections();
    });
    await rm(this.socketPath, { force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/promote') {
      reply(404, {
        error: {
          code: ErrorCode.NotFound,
          message: `no ${req.method ?? ''} ${req.url ?? ''} here: the control socket takes POST /promote`,
        },
      });
      return;
    }
    try {
      reply(200, await this.options.promote());
    } catch (error) {
      const { code, message } = toKrakenError(error);
      this.options.logger.warn('refused or failed to promote this agent', { code, message });
      reply(STATUS_OF[code] ?? 500, { error: { code, message } });
    }
  }
}
