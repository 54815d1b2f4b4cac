import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as defaultSleep } from 'node:timers/promises';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, noopLogger, toKrakenError } from '@kraken/common';
import type { RabbitServer } from './server.js';

/** What a node knows of its RabbitMQ cluster. */
export interface ClusterStatus {
  /** Every node the cluster has (disc nodes), running or not. */
  members: string[];
  running: string[];
}

type Cli = Pick<RabbitServer, 'ctl' | 'queues' | 'waitForLogin' | 'nodeName'>;

export async function clusterStatus(server: Pick<RabbitServer, 'ctl'>): Promise<ClusterStatus> {
  const json = JSON.parse(await server.ctl(['cluster_status', '--formatter', 'json'])) as { disk_nodes?: string[]; running_nodes?: string[] };
  return { members: json.disk_nodes ?? [], running: json.running_nodes ?? [] };
}

export interface JoinClusterOptions {
  /** Told of each start_app that failed and is tried again. @default noopLogger */
  logger?: Logger;
  /** How many times start_app runs before the join fails. @default 4 */
  startAttempts?: number;
  /** The wait before the first retry of start_app, doubled for each further one. @default 2_000 */
  retryDelayMs?: number;
  /** @default node:timers/promises setTimeout (tests pass one that returns at once) */
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Makes `server` a member of `seed`'s cluster (stop_app, join_cluster, start_app), unless it is one
 * already. Its own data is replaced by the cluster's: users, queues and messages come from there.
 *
 * start_app right after join_cluster syncs the new member's schema with the cluster's nodes. It was
 * seen to fail once in CI (the failover-leader smoke, where two machines join one seed at about the
 * same time) and to pass when that was run again: it is tried `startAttempts` times, with a growing
 * pause, before the join fails. A failed
 * join_cluster still gets its start_app (the node must run again either way), then fails the join.
 */
export async function joinCluster(server: Cli, seed: string, options: JoinClusterOptions = {}): Promise<void> {
  const { members } = await clusterStatus(server);
  if (members.includes(seed)) return;
  await server.ctl(['stop_app']);
  const joining = await server.ctl(['join_cluster', seed], 120_000).then(
    () => undefined,
    (error: unknown) => error,
  );
  try {
    await startApp(server, seed, options);
  } catch (error) {
    if (joining === undefined) throw error;
    throw new KrakenError(ErrorCode.Unavailable, `${toKrakenError(joining).message}; starting the node again after it failed: ${toKrakenError(error).message}`, { cause: joining });
  }
  if (joining !== undefined) throw toKrakenError(joining, ErrorCode.Unavailable);
  await server.waitForLogin();
}

async function startApp(server: Cli, seed: string, options: JoinClusterOptions): Promise<void> {
  const { logger = noopLogger, startAttempts = 4, retryDelayMs = 2_000, sleep = defaultSleep } = options;
  if (!Number.isInteger(startAttempts) || startAttempts < 1) {
    throw new KrakenError(ErrorCode.InvalidInput, `startAttempts must be a whole number of at least 1, not ${startAttempts}`);
  }
  const reasons: string[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      await server.ctl(['start_app'], 120_000);
      return;
    } catch (error) {
      reasons.push(toKrakenError(error).message);
      if (attempt === startAttempts) {
        throw new KrakenError(
          ErrorCode.Unavailable,
          `RabbitMQ node ${server.nodeName} did not start after joining ${seed}'s cluster, in ${startAttempts} attempts: ${reasons.map((reason, index) => `(${index + 1}) ${reason}`).join('; ')}`,
          { cause: error, details: { seed, reasons } },
        );
      }
      const delayMs = retryDelayMs * 2 ** (attempt - 1);
      logger.warn('RabbitMQ start_app after join_cluster failed; trying again', { node: server.nodeName, seed, attempt, of: startAttempts, retryInMs: delayMs, reason: reasons.at(-1) });
      await sleep(delayMs);
    }
  }
}

/**
 * How the cluster reacts to a partition. `pause_minority` is only safe with three or more members:
 * with two, each side is "half" and both would pause; `ignore` keeps a lone survivor running.
 * Applied at run time on every running node (and read again by RabbitMQ at each partition).
 */
export async function setPartitionHandling(server: Pick<RabbitServer, 'ctl'>, nodes: readonly string[], mode: 'pause_minority' | 'ignore'): Promise<void> {
  const calls = nodes.map((node) => `rpc:call('${node}', application, set_env, [rabbit, cluster_partition_handling, ${mode}])`).join(', ');
  await server.ctl(['eval', `[${calls}].`]);
}

/** Adds a replica on `node` to every quorum queue that lacks one there (queues declared before it joined). */
export async function growQuorumQueues(server: Pick<RabbitServer, 'queues'>, node: string): Promise<void> {
  await server.queues(['grow', node, 'all']);
}

/**
 * Makes `server` a cluster of one, without the members it cannot reach: what a lone survivor of a
 * two-node cluster does on an operator's request (two nodes have no majority, and RabbitMQ 3.10
 * cannot shrink a quorum queue without one). It keeps the cluster's definitions (users and their
 * password hashes, permissions, queues, exchanges, bindings, policies), so clients log in and find
 * their queues as before, but no message: whatever the queues held is gone. The members left out
 * refuse to boot afterwards (`isForgottenByCluster`) until their data is reset and they join again.
 * Returns the members it left out.
 */
export async function refoundAlone(server: Cli & Pick<RabbitServer, 'dir'>): Promise<string[]> {
  const { members } = await clusterStatus(server);
  const leftOut = members.filter((node) => node !== server.nodeName);
  const definitions = await server.ctl(['export_definitions', '-', '--format', 'json']);
  // password hashes: only this node's user may read them, and only until they are imported
  const file = path.join(server.dir, 'definitions-before-reset.json');
  await writeFile(file, definitions, { mode: 0o600 });
  try {
    await server.ctl(['stop_app']);
    await server.ctl(['force_reset'], 120_000);
    await server.ctl(['start_app'], 120_000);
    await server.waitForLogin();
    await server.ctl(['import_definitions', file], 120_000);
  } finally {
    await rm(file, { force: true });
  }
  return leftOut;
}

/**
 * Whether a node failed to boot because its cluster no longer counts it as a member (the others
 * were refounded without it): RabbitMQ says "Node 'x' thinks it's clustered with node 'y', but 'y'
 * disagrees". Resolves to the member that disagrees, or undefined.
 */
export function isForgottenByCluster(error: unknown): { by: string } | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const match = /thinks it's clustered with node '([^']+)', but '[^']+' disagrees/.exec(message);
  return match?.[1] === undefined ? undefined : { by: match[1] };
}
