import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { ErrorCode, KrakenError } from '@kraken/common';
import { describeCliFailure } from './cli-failure.js';
import { isListening } from './listening.js';
import { liveGroupMembers, signalGroup, waitForGroupExit } from './process-group.js';

export interface RabbitServerOptions {
  /** Data, logs, config and the Erlang cookie (the node's HOME). Created if missing; kept across restarts. */
  dir: string;
  /** Erlang node name, e.g. `kraken-n1@localhost`; unique on the machine (they share epmd). */
  nodeName: string;
  amqpPort: number;
  /** Erlang distribution port. @default amqpPort + 20000 (RabbitMQ's own convention) */
  distPort?: number;
  /** The address AMQP listens on. @default all interfaces */
  amqpAddress?: string;
  /** The IPv4 address Erlang distribution (clustering, rabbitmqctl) binds to. @default '127.0.0.1' */
  distAddress?: string;
  /**
   * The node name's host is an address (`kraken-a@10.0.0.5`), not a short host name: nodes on other
   * machines reach it without any name resolution. @default false
   */
  longNames?: boolean;
  /** Lines for rabbitmq.conf (`key = value`). @default [] */
  config?: readonly string[];
  /** advanced.config (Erlang terms), for what rabbitmq.conf cannot say (net_ticktime). @default '[].' */
  advancedConfig?: string;
  /** Shared by nodes that cluster, and needed by rabbitmqctl; written to `<dir>/.erlang.cookie` (0400). */
  cookie: string;
  /** The user the readiness check logs in as (it must exist once the node booted, e.g. `default_user`). */
  readyUser: { user: string; password: string };
  /** How long start and restart wait for the node. @default 90_000 (boots took up to 38 s on a loaded 2-core machine) */
  readyTimeoutMs?: number;
  /**
   * RabbitMQ's own start script. Debian's /usr/sbin/rabbitmq-server wrapper is not used: it runs the
   * node through `su -c`, which starts a new session, so the node would escape our process group.
   * @default DEFAULT_SERVER_SCRIPT
   */
  serverScript?: string;
}

export const DEFAULT_SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** Whether RabbitMQ is installed here (its start script exists and may be run). */
export async function rabbitInstalled(serverScript = DEFAULT_SERVER_SCRIPT): Promise<boolean> {
  try {
    await access(serverScript, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const stopGraceMs = 30_000;
const killWaitMs = 10_000;
const readyPollMs = 200;
const cleanPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** RabbitMQ prints this on stdout once every boot step ran; an open AMQP port comes earlier. */
const bootCompleteMarker = 'Starting broker... completed';

/**
 * Runs the start script in the background and ties the node's life to this process: we hold this
 * shell's stdin, and when that closes (this process ended in any way, even SIGKILL) the watcher
 * kills the whole process group. SIGTERM to this shell is a graceful stop: it is passed to the
 * start script, which shuts the broker down cleanly.
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
 * One RabbitMQ node this process owns: started in its own process group, with its own config,
 * data and cookie, dying with this process. Nothing from /etc/rabbitmq applies to it. It runs as
 * this process's user: its data lives in the agent's own (private) data dir, which another user
 * could not even enter.
 */
export class RabbitServer {
  readonly dir: string;
  readonly nodeName: string;
  readonly amqpPort: number;
  readonly distPort: number;
  private readonly options: RabbitServerOptions;
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  /** Where this launch's output starts in server.out (restarts append to it). */
  private outOffset = 0;

  private constructor(options: RabbitServerOptions) {
    this.options = options;
    this.dir = options.dir;
    this.nodeName = options.nodeName;
    this.amqpPort = options.amqpPort;
    this.distPort = options.distPort ?? options.amqpPort + 20_000;
  }

  /** Writes the node's files and starts it; resolves once it accepts the ready user. */
  static async start(options: RabbitServerOptions): Promise<RabbitServer> {
    const serverScript = options.serverScript ?? DEFAULT_SERVER_SCRIPT;
    if (!(await rabbitInstalled(serverScript))) {
      throw new KrakenError(ErrorCode.Unavailable, `${serverScript} is not executable: install RabbitMQ (apt-get install rabbitmq-server)`);
    }
    const server = new RabbitServer(options);
    await server.prepare();
    await server.launch();
    return server;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when the current launch's process group leader exits (a crash or a stop). */
  get exited(): Promise<void> {
    return this.exit;
  }

  /** Starts the node (again) on the same data and waits until it is ready. */
  async launch(): Promise<void> {
    const serverScript = this.options.serverScript ?? DEFAULT_SERVER_SCRIPT;
    const out = await open(this.serverOut, 'a');
    this.outOffset = (await out.stat()).size;
    let child: ChildProcess;
    let exited: Promise<void>;
    try {
      child = spawn('/bin/sh', ['-c', lifelineScript, 'rabbitmq-lifeline', serverScript], {
        cwd: this.dir,
        env: this.env(),
        // its own process group: kill() reaches the shell, beam and its helpers, and nothing else
        detached: true,
        stdio: ['pipe', out.fd, out.fd],
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
    // neither the child nor its lifeline pipe may keep this process alive
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    this.child = child;
    this.exit = exited;
    await this.waitReady();
  }

  /**
   * SIGKILL to every process of the node (not epmd, which other nodes share); resolves once they
   * are gone and the AMQP port is released.
   */
  async kill(): Promise<void> {
    const pgid = this.child?.pid;
    if (pgid === undefined) return;
    this.child?.ref(); // hold the event loop until the exit is seen, even in a plain script
    signalGroup(pgid, 'SIGKILL');
    if (!(await waitForGroupExit(pgid, killWaitMs))) {
      throw new KrakenError(ErrorCode.Timeout, `RabbitMQ node ${this.nodeName}: processes ${liveGroupMembers(pgid).join(', ')} survived SIGKILL for ${killWaitMs} ms`);
    }
    await this.exit;
    await this.portReleased();
  }

  /** Graceful shutdown (SIGTERM, then SIGKILL after 30 s). The data stays for launch(). */
  async stop(): Promise<void> {
    const child = this.child;
    const pgid = child?.pid;
    if (pgid === undefined || liveGroupMembers(pgid).length === 0) return;
    child?.ref(); // hold the event loop until the exit is seen, even in a plain script
    signalGroup(pgid, 'SIGCONT'); // a paused node would hold the TERM until the grace period ran out
    // the lifeline shell passes TERM to the start script, which shuts the broker down cleanly
    if (this.running) child?.kill('SIGTERM');
    else signalGroup(pgid, 'SIGTERM');
    if (!(await waitForGroupExit(pgid, stopGraceMs))) await this.kill();
    await this.exit;
    await this.portReleased();
  }

  /**
   * SIGSTOP to every process of the node: it keeps its sockets (the kernel still accepts TCP
   * connections on its port) but answers nothing, as a hung or overloaded broker would.
   */
  pause(): void {
    const pgid = this.child?.pid;
    if (pgid !== undefined) signalGroup(pgid, 'SIGSTOP');
  }

  resume(): void {
    const pgid = this.child?.pid;
    if (pgid !== undefined) signalGroup(pgid, 'SIGCONT');
  }

  /** Whether the current launch finished booting (its AMQP port opens a little earlier). */
  async booted(): Promise<boolean> {
    const out = await readFile(this.serverOut);
    return out.subarray(this.outOffset).includes(bootCompleteMarker);
  }

  /** Runs rabbitmqctl against this node (with its cookie); resolves to its stdout. */
  ctl(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    return this.cli('rabbitmqctl', args, timeoutMs);
  }

  /** Runs rabbitmq-queues against this node (quorum queue membership). */
  queues(args: readonly string[], timeoutMs = 120_000): Promise<string> {
    return this.cli('rabbitmq-queues', args, timeoutMs);
  }

  /** Resolves once the ready user can log in over AMQP (after a start_app, say), or fails after `timeoutMs`. */
  async waitForLogin(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const connection = await amqplib.connect(this.readyUrl, { timeout: 2_000 });
        await connection.close();
        return;
      } catch (error) {
        if (Date.now() >= deadline) {
          throw new KrakenError(ErrorCode.Unavailable, `RabbitMQ node ${this.nodeName} took no AMQP login within ${timeoutMs} ms`, { cause: error });
        }
        await sleep(readyPollMs);
      }
    }
  }

  private get readyUrl(): string {
    const { user, password } = this.options.readyUser;
    return `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${this.options.amqpAddress ?? '127.0.0.1'}:${this.amqpPort}`;
  }

  private async cli(tool: string, args: readonly string[], timeoutMs: number): Promise<string> {
    // not Debian's /usr/sbin wrappers, which switch to the rabbitmq user's HOME and so to another cookie
    const bin = path.join(path.dirname(this.options.serverScript ?? DEFAULT_SERVER_SCRIPT), tool);
    const names = this.options.longNames === true ? ['--longnames'] : [];
    try {
      const { stdout } = await promisify(execFile)(bin, ['-q', '-n', this.nodeName, ...names, ...args], {
        env: { PATH: cleanPath, HOME: this.dir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
        timeout: timeoutMs,
      });
      return stdout;
    } catch (error) {
      throw new KrakenError(ErrorCode.Unavailable, `${tool} ${args[0] ?? ''} on ${this.nodeName} failed (${describeCliFailure(error, timeoutMs)})`, {
        cause: error,
        details: { exitCode: (error as { code?: unknown }).code },
      });
    }
  }

  private get serverOut(): string {
    return path.join(this.dir, 'server.out');
  }

  private get nodeLog(): string {
    return path.join(this.dir, 'log', `${this.nodeName}.log`);
  }

  /** Writes the node's own config files (every start: settings may have changed) so nothing from /etc/rabbitmq applies. */
  private async prepare(): Promise<void> {
    await mkdir(path.join(this.dir, 'mnesia'), { recursive: true });
    await mkdir(path.join(this.dir, 'log'), { recursive: true });
    const cookie = path.join(this.dir, '.erlang.cookie');
    await chmod(cookie, 0o600).catch(() => undefined);
    await writeFile(cookie, this.options.cookie, { mode: 0o600 });
    await chmod(cookie, 0o400);
    await writeFile(path.join(this.dir, 'enabled_plugins'), '[].\n');
    await writeFile(path.join(this.dir, 'rabbitmq-env.conf'), '');
    await writeFile(path.join(this.dir, 'advanced.config'), `${this.options.advancedConfig ?? '[].'}\n`);
    await writeFile(path.join(this.dir, 'rabbitmq.conf'), ['# written by @kraken/rabbitmq', ...(this.options.config ?? []), ''].join('\n'), { mode: 0o600 });
    await chmod(this.dir, 0o700);
  }

  private env(): NodeJS.ProcessEnv {
    const file = (name: string): string => path.join(this.dir, name);
    return {
      // a clean environment: nothing from this process (or a RABBITMQ_* of another node) leaks in
      PATH: cleanPath,
      HOME: this.dir, // the Erlang cookie lives here
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      RABBITMQ_NODENAME: this.nodeName,
      ...(this.options.longNames === true ? { RABBITMQ_USE_LONGNAME: 'true' } : {}),
      ...(this.options.amqpAddress === undefined ? {} : { RABBITMQ_NODE_IP_ADDRESS: this.options.amqpAddress }),
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      // 3.10 names the node from the environment, not the command line; `-kraken_node` is an argument
      // Erlang ignores that puts the name in `ps`, so `pgrep -f <nodeName>` finds this node
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-kernel inet_dist_use_interface {${(this.options.distAddress ?? '127.0.0.1').split('.').join(',')}} -kraken_node ${this.nodeName}`,
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
   * Ready means the boot finished and a real AMQP login succeeds. The port opens before the last
   * boot steps; a queue declared then was seen lost after kill -9 of a fresh node.
   */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 90_000);
    const { user } = this.options.readyUser;
    const url = this.readyUrl;
    let waitingFor = `'${bootCompleteMarker}' on stdout`;
    for (;;) {
      if (!this.running) {
        const code = this.child?.exitCode ?? this.child?.signalCode;
        await this.kill();
        throw await this.startFailure(`exited (${String(code)}) before it was ready`);
      }
      if (await this.booted()) {
        try {
          const connection = await amqplib.connect(url, { timeout: 2_000 });
          await connection.close();
          return;
        } catch (error) {
          waitingFor = `an AMQP login as ${user} (last: ${error instanceof Error ? error.message : String(error)})`;
        }
      }
      if (Date.now() >= deadline) {
        await this.kill();
        throw await this.startFailure(`was not ready within ${this.options.readyTimeoutMs ?? 90_000} ms: no ${waitingFor}`);
      }
      await sleep(readyPollMs);
    }
  }

  /**
   * A killed beam's main thread shows as a zombie while its other threads still tear down, holding
   * the node's sockets: until the port is closed the node is not really gone.
   */
  private async portReleased(): Promise<void> {
    const deadline = Date.now() + killWaitMs;
    while (await isListening(this.amqpPort)) {
      if (Date.now() >= deadline) throw new KrakenError(ErrorCode.Timeout, `RabbitMQ node ${this.nodeName}: port ${this.amqpPort} still listening ${killWaitMs} ms after it stopped`);
      await sleep(20);
    }
  }

  /** The error with what the node said: its first errors (the cause) and its last lines, this launch only. */
  private async startFailure(what: string): Promise<KrakenError> {
    let output = '';
    try {
      output = (await readFile(this.serverOut)).subarray(this.outOffset).toString('utf8').trimEnd();
    } catch {
      // not written: the message says so below
    }
    const lines = output === '' ? [] : output.split('\n');
    const firstErrors = lines.filter((line) => line.includes('[error]')).slice(0, 15);
    const sections = [
      `RabbitMQ node ${this.nodeName} on port ${this.amqpPort} ${what}`,
      ...(firstErrors.length > 0 ? [`--- first errors in ${this.serverOut} ---`, ...firstErrors] : []),
      lines.length > 0 ? `--- last 20 lines of ${this.serverOut} ---` : `--- ${this.serverOut}: no output ---`,
      ...lines.slice(-20),
      await tail(this.nodeLog, 20),
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
