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

/**
 * Makes `server` a member of `seed`'s cluster (stop_app, join_cluster, start_app), unless it is one
 * already. Its own data is replaced by the cluster's: users, queues and messages come from there.
 */
export async function joinCluster(server: Cli, seed: string): Promise<void> {
  const { members } = await clusterStatus(server);
  if (members.includes(seed)) return;
  await server.ctl(['stop_app']);
  try {
    await server.ctl(['join_cluster', seed], 120_000);
  } finally {
    await server.ctl(['start_app'], 120_000);
  }
  await server.waitForLogin();
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
