import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chown, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ErrorCode, KrakenError } from '@kraken/common';
import { connectWithin } from './amqp.js';
import { freePort, isListening } from './ports.js';
import { liveGroupMembers, signalGroup, waitForGroupExit } from './process-group.js';

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

const defaultServerScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const stopGraceMs = 30_000;
const killWaitMs = 10_000;
const readyPollMs = 200;
const cleanPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Starts a private RabbitMQ node (guest/guest, no plugins, loopback only) and waits until it takes connections. */
export async function startRabbitNode(options: RabbitNodeOptions = {}): Promise<RabbitNode> {
  const serverScript = options.serverScript ?? defaultServerScript;
  try {
    await access(serverScript, constants.X_OK);
  } catch (error) {
    throw new KrakenError(
      ErrorCode.Unavailable,
      `startRabbitNode: ${serverScript} is not executable: install RabbitMQ with \`bash tools/services/services.sh up\``,
      { cause: error },
    );
  }
  const owner = await nodeOwner();
  const [port, distPort] = await distinctFreePorts();
  const dir = await mkdtemp(path.join(tmpdir(), 'kraken-rabbit-'));
  const node = new PrivateRabbitNode({
    serverScript,
    owner,
    port,
    distPort,
    dir,
    nodeName: `kraken-test-${randomBytes(4).toString('hex')}@localhost`,
    readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
  });
  try {
    await node.prepare(options.config ?? []);
    await node.launch();
  } catch (error) {
    await node[Symbol.asyncDispose]().catch(() => undefined);
    throw error;
  }
  return node;
}

interface NodeOwner {
  uid?: number;
  gid?: number;
  home: string;
}

/** As root the node runs as the `rabbitmq` user (what Debian's wrapper does); otherwise as ourselves. */
async function nodeOwner(): Promise<NodeOwner> {
  if (process.getuid?.() !== 0) return { home: homedir() };
  let entry: string;
  try {
    entry = (await promisify(execFile)('getent', ['passwd', 'rabbitmq'])).stdout.trim();
  } catch (error) {
    throw new KrakenError(
      ErrorCode.Unavailable,
      'startRabbitNode: there is no `rabbitmq` user: install RabbitMQ with `bash tools/services/services.sh up`',
      { cause: error },
    );
  }
  const [, , uid, gid, , home] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid), home: home ?? '/var/lib/rabbitmq' };
}

async function distinctFreePorts(): Promise<[number, number]> {
  const port = await freePort();
  for (;;) {
    const distPort = await freePort();
    if (distPort !== port) return [port, distPort];
  }
}

interface NodeSettings {
  serverScript: string;
  owner: NodeOwner;
  port: number;
  distPort: number;
  dir: string;
  nodeName: string;
  readyTimeoutMs: number;
}

/**
 * Runs the start script in the background and ties the node's life to the test process: the test
 * process holds this shell's stdin, and when that closes (the test process ended in any way, even
 * SIGKILL of a jest worker, without disposing the node) the watcher kills the whole process group.
 * SIGTERM to this shell is a graceful stop: it is passed to the start script, which shuts the
 * broker down cleanly.
 */
const lifelineScript = `
exec 3<&0 </dev/null
( while read -r _ <&3; do :; done; kill -KILL 0 ) &
watcher=$!
"$@" 3<&- &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM
wait "$server" || true
wait "$server" 2>/dev/null || true
kill "$watcher" 2>/dev/null
`;

/**
 * Writes what RabbitMQ keeps only in memory for a while: Mnesia's log (queue definitions) and Ra's
 * registry of quorum queue servers (dets tables, saved every few minutes). A quorum queue whose Ra
 * registration was lost to a kill -9 came back as a second, leaderless server: every operation on
 * it hung (seen here with 3.10, a queue declared 3 s before the kill).
 */
const flushExpression =
  '[dets:sync(Table) || Table <- [ra_directory_reverse, ra_log_meta], lists:member(Table, dets:all())], mnesia:dump_log().';

/** RabbitMQ prints this on stdout once every boot step ran; an open AMQP port comes earlier. */
const bootCompleteMarker = 'Starting broker... completed';

class PrivateRabbitNode implements RabbitNode {
  readonly url: string;
  readonly port: number;
  readonly nodeName: string;
  readonly dir: string;
  readonly #settings: NodeSettings;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  /** Where this launch's output starts in server.out (restarts append to it). */
  #outOffset = 0;
  #disposed = false;

  constructor(settings: NodeSettings) {
    this.#settings = settings;
    this.port = settings.port;
    this.nodeName = settings.nodeName;
    this.dir = settings.dir;
    this.url = `amqp://guest:guest@127.0.0.1:${settings.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get #serverOut(): string {
    return path.join(this.dir, 'server.out');
  }

  get #nodeLog(): string {
    return path.join(this.dir, 'log', `${this.nodeName}.log`);
  }

  /** Writes the node's own config files so nothing from /etc/rabbitmq applies. */
  async prepare(config: readonly string[]): Promise<void> {
    await mkdir(path.join(this.dir, 'mnesia'));
    await mkdir(path.join(this.dir, 'log'));
    await writeFile(path.join(this.dir, 'enabled_plugins'), '[].\n');
    await writeFile(path.join(this.dir, 'rabbitmq-env.conf'), '');
    await writeFile(path.join(this.dir, 'advanced.config'), '[].\n');
    await writeFile(path.join(this.dir, 'rabbitmq.conf'), ['# written by @kraken/testing startRabbitNode', ...config, ''].join('\n'));
    const { uid, gid } = this.#settings.owner;
    if (uid !== undefined && gid !== undefined) {
      for (const entry of ['', 'mnesia', 'log', 'enabled_plugins', 'rabbitmq-env.conf', 'advanced.config', 'rabbitmq.conf']) {
        await chown(path.join(this.dir, entry), uid, gid);
      }
    }
  }

  async launch(): Promise<void> {
    const { serverScript, owner } = this.#settings;
    const out = await open(this.#serverOut, 'a');
    this.#outOffset = (await out.stat()).size;
    let child: ChildProcess;
    let exited: Promise<void>;
    try {
      child = spawn('/bin/sh', ['-c', lifelineScript, 'rabbitmq-lifeline', serverScript], {
        cwd: this.dir,
        env: this.#env(),
        // its own process group: kill() reaches the shell, beam and its helpers, and nothing else
        detached: true,
        stdio: ['pipe', out.fd, out.fd],
        ...(owner.uid === undefined ? {} : { uid: owner.uid }),
        ...(owner.gid === undefined ? {} : { gid: owner.gid }),
      });
      // listen before any await: a node that dies at once must still resolve kill() and stop()
      exited = new Promise((resolve) => {
        child.once('exit', () => {
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } finally {
      await out.close();
    }
    // neither the child nor its lifeline pipe may keep the test process alive
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    this.#child = child;
    this.#exited = exited;
    await this.#waitReady();
  }

  async kill(): Promise<void> {
    const pgid = this.#child?.pid;
    if (pgid === undefined) return;
    this.#child?.ref(); // hold the event loop until the exit is seen, even in a plain script
    signalGroup(pgid, 'SIGKILL');
    if (!(await waitForGroupExit(pgid, killWaitMs))) {
      throw new KrakenError(ErrorCode.Timeout, `RabbitNode ${this.nodeName}: processes ${liveGroupMembers(pgid).join(', ')} survived SIGKILL for ${killWaitMs} ms`);
    }
    await this.#exited;
    await this.#portReleased();
  }

  /**
   * A killed beam's main thread shows as a zombie while its other threads still tear down, holding
   * the node's sockets: until the port is closed the node is not really gone (a client would still
   * reach the dying listener).
   */
  async #portReleased(): Promise<void> {
    const deadline = Date.now() + killWaitMs;
    while (await isListening(this.port)) {
      if (Date.now() >= deadline) throw new KrakenError(ErrorCode.Timeout, `RabbitNode ${this.nodeName}: port ${this.port} still listening ${killWaitMs} ms after the kill`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    const pgid = child?.pid;
    if (pgid === undefined || liveGroupMembers(pgid).length === 0) return;
    child?.ref(); // hold the event loop until the exit is seen, even in a plain script
    signalGroup(pgid, 'SIGCONT'); // a paused node would hold the TERM until the grace period ran out
    // the lifeline shell passes TERM to the start script, which shuts the broker down cleanly
    if (this.running) child?.kill('SIGTERM');
    else signalGroup(pgid, 'SIGTERM');
    if (!(await waitForGroupExit(pgid, stopGraceMs))) await this.kill();
    await this.#exited;
    await this.#portReleased();
  }

  pause(): void {
    const pgid = this.#child?.pid;
    if (pgid !== undefined) signalGroup(pgid, 'SIGSTOP');
  }

  resume(): void {
    const pgid = this.#child?.pid;
    if (pgid !== undefined) signalGroup(pgid, 'SIGCONT');
  }

  booted(): Promise<boolean> {
    return this.#bootComplete();
  }

  async flush(): Promise<void> {
    let output: string;
    try {
      ({ stdout: output } = await promisify(execFile)('rabbitmqctl', ['-q', '-n', this.nodeName, 'eval', flushExpression], {
        env: { PATH: cleanPath, HOME: process.env['HOME'] ?? this.#settings.owner.home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
        timeout: 60_000,
      }));
    } catch (error) {
      throw new KrakenError(ErrorCode.Unavailable, `RabbitNode ${this.nodeName}: rabbitmqctl could not dump the Mnesia log`, {
        cause: error,
      });
    }
    if (output.trim() !== 'dumped') {
      throw new KrakenError(ErrorCode.Internal, `RabbitNode ${this.nodeName}: mnesia:dump_log() answered ${JSON.stringify(output.trim())}, expected "dumped"`);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      await this.stop();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  #env(): NodeJS.ProcessEnv {
    const file = (name: string): string => path.join(this.dir, name);
    return {
      // a clean environment: nothing from the test process (or a RABBITMQ_* of the shared node) leaks in
      PATH: cleanPath,
      HOME: this.#settings.owner.home, // the Erlang cookie lives here
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.#settings.distPort),
      // 3.10 names the node from the environment, not the command line; `-kraken_test_node` is an
      // argument Erlang ignores that puts the name in `ps` so `pgrep -f <nodeName>` finds this node
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-kernel inet_dist_use_interface {127,0,0,1} -kraken_test_node ${this.nodeName}`,
      RABBITMQ_MNESIA_BASE: file('mnesia'),
      RABBITMQ_LOG_BASE: file('log'),
      RABBITMQ_PID_FILE: file('rabbitmq.pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: file('enabled_plugins'),
      RABBITMQ_CONF_ENV_FILE: file('rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: file('rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: file('advanced.config'),
    };
  }

  /**
   * Ready means the boot finished and a real AMQP handshake succeeds. The port opens before the
   * last boot steps; a queue declared then was seen lost after kill -9 of a fresh node.
   */
  async #waitReady(): Promise<void> {
    const deadline = Date.now() + this.#settings.readyTimeoutMs;
    let waitingFor = `'${bootCompleteMarker}' on stdout`;
    for (;;) {
      if (!this.running) {
        const code = this.#child?.exitCode ?? this.#child?.signalCode;
        await this.kill();
        throw await this.#startFailure(`exited (${String(code)}) before it was ready`);
      }
      if (await this.#bootComplete()) {
        try {
          const connection = await connectWithin(this.url, 2_000);
          await connection.close();
          return;
        } catch (error) {
          waitingFor = `an AMQP connection (last: ${error instanceof Error ? error.message : String(error)})`;
        }
      }
      if (Date.now() >= deadline) {
        await this.kill();
        throw await this.#startFailure(`was not ready within ${this.#settings.readyTimeoutMs} ms: no ${waitingFor}`);
      }
      await sleep(readyPollMs);
    }
  }

  async #bootComplete(): Promise<boolean> {
    const out = await readFile(this.#serverOut);
    return out.subarray(this.#outOffset).includes(bootCompleteMarker);
  }

  /** The error with what the node said: its first errors (the cause) and its last lines, this launch only. */
  async #startFailure(what: string): Promise<KrakenError> {
    let output = '';
    try {
      output = (await readFile(this.#serverOut)).subarray(this.#outOffset).toString('utf8').trimEnd();
    } catch {
      // not written: the message says so below
    }
    const lines = output === '' ? [] : output.split('\n');
    const firstErrors = lines.filter((line) => line.includes('[error]')).slice(0, 15);
    const sections = [
      `RabbitNode ${this.nodeName} on port ${this.port} ${what}`,
      ...(firstErrors.length > 0 ? [`--- first errors in ${this.#serverOut} ---`, ...firstErrors] : []),
      lines.length > 0 ? `--- last 20 lines of ${this.#serverOut} ---` : `--- ${this.#serverOut}: no output ---`,
      ...lines.slice(-20),
      await tail(this.#nodeLog, 20),
    ];
    return new KrakenError(ErrorCode.Unavailable, sections.join('\n'), { details: { dir: this.dir } });
  }
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trimEnd();
    return `--- last ${lines} lines of ${file} ---\n${text.split('\n').slice(-lines).join('\n')}`;
  } catch {
    return `--- ${file}: not written ---`;
  }
}
