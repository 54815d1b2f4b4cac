// A local cluster for tests and benchmarks: N `kraken agent` processes, each a separate host in a
// network namespace of a private lab (own address on a bridge), RabbitMQ on this machine reachable
// from all of them with a user of their own (guest works over loopback only) in a vhost of their
// own (Kraken's queue names are fixed: another Kraken on this machine, in the default vhost, would
// otherwise share its queues with the cluster); or, with `managedBroker`, the leader's own RabbitMQ
// node. Hosts may reach RabbitMQ through a delaying relay, to slow their link at will. Cleans up
// after itself, including when a test fails: agents, the lab, relays, the RabbitMQ user and vhosts
// and the data dirs. With KRAKEN_CLUSTER_LOGS=<dir>, each agent's output is kept there.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import tls from 'node:tls';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { IsolatedVhost, NetnsHost, NetnsLab, TcpRelay, WatchedProcess } from '@kraken/testing';
import { amqpUrl, createNetnsLab, isolatedVhost, startTcpRelay, watchProcess } from '@kraken/testing';
import { SECRETS_FILE } from '@kraken/orchestrator';

const run = promisify(execFile);
// import.meta.url, not __dirname: the specs load this file as CommonJS (jest), the benches as an ES
// module (node runs .ts files itself)
export const AGENT_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'apps', 'agent', 'dist', 'cli.js');
export const API_PORT = 4000;
/** Each host is a namespace of its own: the ingress takes its default port there. */
export const INGRESS_PORT = 80;

export interface ClusterAgent {
  readonly index: number;
  readonly host: NetnsHost;
  readonly dataDir: string;
  /** The API URL this agent would serve when it leads. */
  readonly apiUrl: string;
  readonly process: WatchedProcess;
}

/** What sets an agent apart from the harness defaults, for several clusters in one lab. */
export interface AgentStartOptions {
  /** The broker it uses when it leads. @default the harness's brokerUrl */
  brokerUrl?: string;
  /**
   * Its `--join-token`; `null` gives none, so that when it leads it makes a token of its own (printed
   * in its `--join-token <token>` line), as `kraken agent` alone does. @default the harness's joinToken
   */
  joinToken?: string | null;
}

export interface ClusterHarness extends AsyncDisposable {
  readonly lab: NetnsLab;
  /**
   * amqp://<user>:<password>@<this machine on the bridge>:<RabbitMQ's port>/<the harness's vhost>,
   * given to every agent; undefined with `managedBroker`, where the leading agent runs its own
   * RabbitMQ node and hands out users.
   */
  readonly brokerUrl: string | undefined;
  /** Shared by every agent, so whichever leads accepts the others. */
  readonly joinToken: string;
  readonly agents: readonly (ClusterAgent | undefined)[];
  /** Starts `kraken agent` on host `index` (1-based) with the harness defaults plus `args`. */
  start(index: number, args?: readonly string[], options?: AgentStartOptions): ClusterAgent;
  /**
   * A broker URL for one more cluster in the lab: a RabbitMQ vhost of its own, removed by destroy().
   * Leaders on one vhost would share Kraken's fixed queue names, so each cluster needs its own.
   */
  clusterBroker(): Promise<string>;
  /** Runs a `kraken` client verb inside host `index`'s namespace. */
  kraken(index: number, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /**
   * Runs one of RabbitMQ's CLI tools against the RabbitMQ node agent `index` runs (managedBroker),
   * inside its host with its cookie; resolves to stdout.
   */
  rabbitCli(index: number, tool: 'rabbitmqctl' | 'rabbitmq-queues', args: readonly string[]): Promise<string>;
  /** The cluster's API token: the founder's (agent 1), which every leader after it keeps. */
  apiToken(): Promise<string>;
  /** A GraphQL request to `api` with the cluster's API token: its data, or an error naming the API and the errors. */
  graphql<T>(api: string, query: string, options?: { variables?: Record<string, unknown>; timeoutMs?: number }): Promise<T>;
  /** SIGKILL to agent `index`'s process alone. */
  kill(index: number): Promise<void>;
  /**
   * Every process of host `index` dies at once (the agent, its RabbitMQ node, its apps): see
   * NetnsLab.killHost. Resolves once the agent's process has exited.
   */
  killHost(index: number): Promise<void>;
  /**
   * SIGKILL to the whole process group of agent `index`'s own RabbitMQ node (managedBroker; the
   * agent restarts it), as when the node crashes or is OOM-killed while its machine stays up. The
   * group is found by its leader, RabbitMQ's lifeline shell, running in the host's namespace from
   * the agent's data dir: never the machine's RabbitMQ nor another host's node. Resolves to the
   * group's id once the signal is sent; rejects when the host runs no such node now.
   */
  killBroker(index: number): Promise<number>;
  /** The process group of agent `index`'s own RabbitMQ node as killBroker finds it; undefined when it runs none now. */
  brokerNodeGroup(index: number): Promise<number | undefined>;
  /**
   * Holds host `index`'s traffic to and from RabbitMQ `delayMs` each way from now on, open
   * connections too (0: none); the host must be one of `relayedHosts`.
   */
  delayBroker(index: number, delayMs: number): void;
  pause(index: number): void;
  resume(index: number): void;
  cut(index: number): Promise<void>;
  restore(index: number): Promise<void>;
  destroy(): Promise<void>;
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
}

export interface ClusterHarnessOptions {
  hosts: number;
  name?: string;
  /** Agents get no --broker-url: the leader runs its own RabbitMQ node, as on real machines. @default false */
  managedBroker?: boolean;
  /**
   * Hosts whose connections to the machine's RabbitMQ go through a relay on this machine (one per
   * host), so that delayBroker() can slow their link: this kernel has no netem qdisc. Only their
   * broker traffic: their pulses and HTTP go straight. Not with managedBroker. @default []
   */
  relayedHosts?: readonly number[];
}

/** The AMQP port of an agent's own RabbitMQ node: each host is a network namespace of its own. */
export const BROKER_PORT = 5673;

export async function startClusterHarness(options: ClusterHarnessOptions): Promise<ClusterHarness> {
  const managed = options.managedBroker ?? false;
  const relayedHosts = options.relayedHosts ?? [];
  if (managed && relayedHosts.length > 0) throw new Error('startClusterHarness: relayedHosts relay the machine\'s RabbitMQ, which managedBroker does not use');
  const lab = await createNetnsLab({ name: options.name ?? 'kc', hosts: options.hosts });
  const user = `kraken-harness-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const root = await mkdtemp(path.join(tmpdir(), 'kraken-cluster-'));
  trustClusterCas(root);
  // the agents' apps run as the unprivileged app user, from folders under the root (not the
  // machine's /var/lib/kraken-apps, which a killed agent would leave behind): it must reach them
  await chmod(root, 0o711);
  const appsDir = path.join(root, 'apps');
  // the machine's RabbitMQ, the one amqpUrl() names, seen from the lab at the bridge address
  const rabbitPort = Number(new URL(amqpUrl()).port || 5672);
  const agents: (ClusterAgent | undefined)[] = [];
  const clusterVhosts: IsolatedVhost[] = [];
  const relays = new Map<number, TcpRelay>();
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    // KRAKEN_CLUSTER_LOGS=<dir> keeps each agent's output, to read what happened
    const keep = process.env['KRAKEN_CLUSTER_LOGS'];
    if (keep !== undefined) {
      await mkdir(keep, { recursive: true });
      for (const agent of agents) if (agent !== undefined) await writeFile(path.join(keep, `agent-${String(agent.index)}.log`), agent.process.output());
    }
    for (const agent of agents) agent?.process.kill('SIGKILL');
    await Promise.all(agents.flatMap((agent) => (agent === undefined ? [] : [agent.process.exited])));
    await lab.destroy();
    await Promise.all([...relays.values()].map((relay) => relay.close()));
    if (!managed) await rabbitmqctl('delete_user', user).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await Promise.all(clusterVhosts.map((vhost) => vhost.remove().catch(() => undefined)));
  };
  try {
    if (!managed) {
      // the default cluster's vhost, removed with the others by destroy()
      const vhost = await isolatedVhost('kraken-cluster');
      clusterVhosts.push(vhost);
      await rabbitmqctl('add_user', user, password);
      await vhost.allow(user);
      // the lab's hosts reach nothing on this machine but what the harness opens: RabbitMQ
      await lab.allowHostPort(rabbitPort);
      for (const index of relayedHosts) {
        // no delay until delayBroker(); the host's connections to RabbitMQ go through it from its first one
        const relay = await startTcpRelay({ listen: { address: lab.hostAddress }, target: { address: '127.0.0.1', port: rabbitPort }, delayMs: 0 });
        relays.set(index, relay);
        await lab.allowHostPort(relay.port);
        await lab.redirectTcp(index, { address: lab.hostAddress, port: rabbitPort }, { address: relay.address, port: relay.port });
      }
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  const [defaultVhost] = clusterVhosts;
  const brokerUrl =
    defaultVhost === undefined
      ? undefined
      : `amqp://${user}:${password}@${lab.hostAddress}:${String(rabbitPort)}/${encodeURIComponent(defaultVhost.vhost)}`;
  const joinToken = randomBytes(16).toString('hex');
  const agentAt = (index: number): ClusterAgent => {
    const agent = agents[index];
    if (agent === undefined) throw new Error(`no agent was started on host ${index}`);
    return agent;
  };

  const brokerNodeGroup = async (index: number): Promise<number | undefined> => {
    const agent = agentAt(index);
    const { stdout } = await run('ip', ['netns', 'pids', agent.host.netns]);
    const nodeDir = path.join(agent.dataDir, 'rabbitmq');
    for (const pid of stdout.split('\n').map(Number).filter((candidate) => Number.isInteger(candidate) && candidate > 0)) {
      const leader = await lifelineGroup(pid, nodeDir);
      if (leader !== undefined) return leader;
    }
    return undefined;
  };

  let founderToken: string | undefined;
  const apiToken = async (): Promise<string> => {
    founderToken ??= (JSON.parse(await readFile(path.join(agentAt(1).dataDir, SECRETS_FILE), 'utf8')) as { apiToken: string }).apiToken;
    return founderToken;
  };

  return {
    lab,
    brokerUrl,
    joinToken,
    agents,
    start: (index, args = [], agentOptions = {}) => {
      const token = agentOptions.joinToken === undefined ? joinToken : agentOptions.joinToken;
      const host = lab.host(index);
      const dataDir = path.join(root, `agent-${index}`);
      const child = lab.spawn(
        host,
        [
          process.execPath, AGENT_CLI, 'agent',
          '--data-dir', dataDir,
          '--node-id', `agent-${index}`,
          '--api-port', String(API_PORT),
          '--ingress-port', String(INGRESS_PORT),
          ...brokerArgs(agentOptions.brokerUrl ?? brokerUrl),
          ...(token === null ? [] : ['--join-token', token]),
          '--runtime', 'process',
          '--apps-dir', appsDir,
          '--public-host', host.address,
          '--interface', host.interfaceName,
          ...args,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      // agents serve the API over TLS to other machines (this test process is one), unless told not to
      const scheme = args.includes('--insecure-no-tls') ? 'http' : 'https';
      const agent: ClusterAgent = { index, host, dataDir, apiUrl: `${scheme}://${host.address}:${API_PORT}`, process: watchProcess(child) };
      agents[index] = agent;
      return agent;
    },
    clusterBroker: async () => {
      if (brokerUrl === undefined) throw new Error('clusterBroker(): with managedBroker each leader runs its own RabbitMQ node');
      // the harness's user gets full permissions there, as on its own vhost
      const vhost = await isolatedVhost(`kraken-lab-cluster-${String(clusterVhosts.length + 1)}`, brokerUrl);
      clusterVhosts.push(vhost);
      return vhost.url;
    },
    kraken: async (index, args) => {
      // a client with no --data-dir of an agent trusts the founder's cluster CA, as `kraken ca` would give it
      const ca = agents[1] === undefined ? [] : [`KRAKEN_CA=${path.join(tlsDirOf(agentAt(1).dataDir), 'ca.pem')}`];
      try {
        const { stdout, stderr } = await run('ip', ['netns', 'exec', lab.host(index).netns, 'env', ...ca, process.execPath, AGENT_CLI, ...args], { timeout: 600_000 });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
      }
    },
    rabbitCli: async (index, tool, args) => {
      const host = lab.host(index);
      const { stdout } = await run(
        'ip',
        ['netns', 'exec', host.netns, 'env', `HOME=${path.join(agentAt(index).dataDir, 'rabbitmq')}`, `/usr/lib/rabbitmq/bin/${tool}`, '-q', '-n', `kraken-agent-${String(index)}@${host.address}`, '--longnames', ...args],
        { timeout: 120_000 },
      );
      return stdout;
    },
    apiToken,
    graphql: async <T>(api: string, query: string, { variables = {}, timeoutMs = 5_000 }: { variables?: Record<string, unknown>; timeoutMs?: number } = {}): Promise<T> => {
      const response = await fetch(`${api}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await apiToken()}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      }).catch((error: unknown) => {
        // fetch's own message is only "fetch failed": name the API and the reason (refused, timed out)
        throw new Error(`${api}/graphql: ${String((error as { cause?: unknown }).cause ?? error)}`);
      });
      const body = (await response.json()) as { data?: T | null; errors?: unknown };
      if (body.data === undefined || body.data === null) throw new Error(`${api}: ${JSON.stringify(body.errors)}`);
      return body.data;
    },
    kill: async (index) => {
      const agent = agentAt(index);
      agent.process.kill('SIGKILL');
      await agent.process.exited;
    },
    killHost: async (index) => {
      const agent = agentAt(index);
      await lab.killHost(index);
      await agent.process.exited;
    },
    brokerNodeGroup,
    killBroker: async (index) => {
      const group = await brokerNodeGroup(index);
      if (group === undefined) throw new Error(`killBroker: host ${String(index)} runs no RabbitMQ node from ${path.join(agentAt(index).dataDir, 'rabbitmq')} now`);
      process.kill(-group, 'SIGKILL');
      return group;
    },
    delayBroker: (index, delayMs) => {
      const relay = relays.get(index);
      if (relay === undefined) throw new Error(`delayBroker: host ${String(index)} is not one of relayedHosts (${relayedHosts.join(', ') || 'none'})`);
      relay.setDelay(delayMs);
    },
    pause: (index) => {
      agentAt(index).process.kill('SIGSTOP');
    },
    resume: (index) => {
      agentAt(index).process.kill('SIGCONT');
    },
    cut: (index) => lab.cut(index),
    restore: (index) => lab.restore(index),
    destroy,
    [Symbol.asyncDispose]: destroy,
  };
}

/**
 * `pid` when it leads the process group of a RabbitMQ node run from `nodeDir` (RabbitServer's
 * lifeline shell, started in a group of its own, working in the node's dir); else undefined. The
 * agent's rabbitmqctl runs share the agent's group, so a beam.smp alone would not do.
 */
async function lifelineGroup(pid: number, nodeDir: string): Promise<number | undefined> {
  try {
    const argv = (await readFile(`/proc/${String(pid)}/cmdline`, 'utf8')).split('\0');
    const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ...": comm may hold spaces, so count from the last ')'
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (!argv.includes('rabbitmq-lifeline') || pgrp !== pid) return undefined;
    return (await readlink(`/proc/${String(pid)}/cwd`)) === nodeDir ? pid : undefined;
  } catch {
    return undefined; // it exited meanwhile
  }
}

/** An agent with no broker URL runs its own RabbitMQ node when it leads: each host is a namespace of its own, so the port is free. */
function brokerArgs(url: string | undefined): string[] {
  return url === undefined ? ['--broker-port', String(BROKER_PORT)] : ['--broker-url', url];
}

/** `<dataDir>/tls`, where an agent keeps the cluster CA (see apps/agent/src/run/agent-tls.ts). */
function tlsDirOf(dataDir: string): string {
  return path.join(dataDir, 'tls');
}

const trustedRoots = new Set<string>();
const trustedCas = new Set<string>();
let systemCas: string[] | undefined;

/**
 * Makes this process's fetch trust the cluster CAs that agents under `root` keep, as a user trusts
 * the one `kraken ca` prints: each agent serves the API over TLS with a certificate from its
 * cluster's CA, which the founding leader makes when it starts. Every fetch first takes in the CAs
 * written since (a few file reads), so a spec can call the API as soon as an agent answers.
 */
function trustClusterCas(root: string): void {
  trustedRoots.add(root);
  const fetchOf = globalThis as { fetch: typeof fetch; krakenTrusting?: true };
  if (fetchOf.krakenTrusting === true) return;
  const original = fetchOf.fetch;
  fetchOf.krakenTrusting = true;
  fetchOf.fetch = (input, init) => {
    takeInClusterCas();
    return original(input, init);
  };
  // WebSocket clients (ws, graphql-ws) do not go through fetch: they find the CAs taken in meanwhile
  setInterval(takeInClusterCas, 250).unref();
}

function takeInClusterCas(): void {
  let added = false;
  for (const dir of trustedRoots) {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      trustedRoots.delete(dir); // removed with its cluster
      continue;
    }
    for (const entry of entries) {
      try {
        const ca = readFileSync(path.join(tlsDirOf(path.join(dir, entry)), 'ca.pem'), 'utf8');
        if (!trustedCas.has(ca)) {
          trustedCas.add(ca);
          added = true;
        }
      } catch {
        // not an agent's folder, or no CA yet
      }
    }
  }
  if (added) {
    systemCas ??= tls.getCACertificates('default');
    tls.setDefaultCACertificates([...systemCas, ...trustedCas]);
  }
}
