import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, KrakenError, freePort } from '@kraken/common';
import { RabbitServer } from '@kraken/rabbitmq';

export interface RabbitNodeOptions {
  /**
   * Lines for the node's rabbitmq.conf (new-style `key = value` format),
   * e.g. `['consumer_timeout = 10000']`.
   * @default []
   */
  config?: readonly string[] | undefined;
  /**
   * How long start and restart wait for the node to accept an AMQP connection.
   * @default 90_000 (boots took up to 38 s on this 2-core machine under load)
   */
  readyTimeoutMs?: number | undefined;
  /**
   * RabbitMQ's own start script. Debian's /usr/sbin/rabbitmq-server wrapper is not used: it runs the
   * node through `su -c`, which starts a new session, so the node would escape our process group.
   * @default '/usr/lib/rabbitmq/bin/rabbitmq-server'
   */
  serverScript?: string | undefined;
}

/** A RabbitMQ node of its own for one test file: kill it, restart it, the shared broker never notices. */
export interface RabbitNode extends AsyncDisposable {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Erlang node name, `kraken-test-<random>@localhost`; unique, so `pgrep -f` finds only this node. */
  readonly nodeName: string;
  /** Data, logs and config; removed on dispose. */
  readonly dir: string;
  readonly running: boolean;
  /**
   * SIGKILL to every process of the node (not epmd, which other nodes share); resolves once they are gone.
   * Confirmed persistent messages survive it; a queue declared moments before may not: see flush().
   */
  kill(): Promise<void>;
  /**
   * Writes the node's definitions (queues, exchanges, bindings, quorum queues' Ra registrations)
   * to disk now. RabbitMQ answers declare-ok before they are on disk, and a kill() within a few
   * seconds of a declare was seen to lose the queue (and so its confirmed messages) on a fresh node,
   * in 7 of 37 tries here, or to leave a quorum queue without a leader for good. Call it between declaring and kill() when the test is about what survives a crash.
   * Takes ~2 s (one rabbitmqctl run).
   */
  flush(): Promise<void>;
  /** Starts the node again on the same port and data (stopping it first if it runs) and waits until it is ready. */
  restart(): Promise<void>;
  /**
   * SIGSTOP to every process of the node: it keeps its sockets (the kernel still accepts TCP
   * connections on its port) but answers nothing, as a hung or overloaded broker would. The signal
   * is sent before this returns, so a test can freeze the node at an exact moment.
   */
  pause(): void;
  /** SIGCONT: a paused node carries on where it stopped. */
  resume(): void;
  /** Whether the current launch finished booting (its AMQP port opens a little earlier). */
  booted(): Promise<boolean>;
  /** Graceful shutdown (SIGTERM, then SIGKILL after 30 s). The data stays for restart(). */
  stop(): Promise<void>;
}

const guest = { user: 'guest', password: 'guest' };

/**
 * Writes what RabbitMQ keeps only in memory for a while: Mnesia's log (queue definitions) and Ra's
 * registry of quorum queue servers (dets tables, saved every few minutes). A quorum queue whose Ra
 * registration was lost to a kill -9 came back as a second, leaderless server: every operation on
 * it hung (seen here with 3.10, a queue declared 3 s before the kill).
 */
const flushExpression =
  '[dets:sync(Table) || Table <- [ra_directory_reverse, ra_log_meta], lists:member(Table, dets:all())], mnesia:dump_log().';

/** Starts a private RabbitMQ node (guest/guest, no plugins, loopback only) and waits until it takes connections. */
export async function startRabbitNode(options: RabbitNodeOptions = {}): Promise<RabbitNode> {
  const [port, distPort] = await distinctFreePorts();
  const dir = await mkdtemp(path.join(tmpdir(), 'kraken-rabbit-'));
  const nodeName = `kraken-test-${randomBytes(4).toString('hex')}@localhost`;
  try {
    const server = await RabbitServer.start({
      dir,
      nodeName,
      amqpPort: port,
      distPort,
      amqpAddress: '127.0.0.1',
      config: options.config ?? [],
      cookie: randomBytes(20).toString('hex'),
      readyUser: guest,
      readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
      ...(options.serverScript === undefined ? {} : { serverScript: options.serverScript }),
    });
    return new PrivateRabbitNode(server);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error instanceof KrakenError ? new KrakenError(error.code, `startRabbitNode: ${error.message}`, { cause: error, details: { dir } }) : error;
  }
}

async function distinctFreePorts(): Promise<[number, number]> {
  const port = await freePort();
  for (;;) {
    const distPort = await freePort();
    if (distPort !== port) return [port, distPort];
  }
}

class PrivateRabbitNode implements RabbitNode {
  readonly url: string;
  readonly port: number;
  readonly nodeName: string;
  readonly dir: string;
  readonly #server: RabbitServer;
  #disposed = false;

  constructor(server: RabbitServer) {
    this.#server = server;
    this.port = server.amqpPort;
    this.nodeName = server.nodeName;
    this.dir = server.dir;
    this.url = `amqp://guest:guest@127.0.0.1:${server.amqpPort}`;
  }

  get running(): boolean {
    return this.#server.running;
  }

  kill(): Promise<void> {
    return this.#server.kill();
  }

  stop(): Promise<void> {
    return this.#server.stop();
  }

  async restart(): Promise<void> {
    await this.#server.stop();
    await this.#server.launch();
  }

  pause(): void {
    this.#server.pause();
  }

  resume(): void {
    this.#server.resume();
  }

  booted(): Promise<boolean> {
    return this.#server.booted();
  }

  async flush(): Promise<void> {
    const output = await this.#server.ctl(['eval', flushExpression]);
    if (output.trim() !== 'dumped') {
      throw new KrakenError(ErrorCode.Internal, `RabbitNode ${this.nodeName}: the flush answered ${JSON.stringify(output.trim())}, expected "dumped"`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      await this.#server.stop();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
