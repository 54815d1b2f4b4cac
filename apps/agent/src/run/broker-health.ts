import type { BrokerStats } from '@kraken/broker';
import { redactUrl } from '@kraken/broker';
import type { PlatformServiceInfo } from '@kraken/orchestrator';
import type { ClusterStatus } from '@kraken/rabbitmq';
import type { OpenedBroker } from './open-broker.js';

/** The broker as getPlatformServices (the Platform page, `kraken status`) shows it: up, or down since when and why. */
export function brokerService(opened: Pick<OpenedBroker, 'kind' | 'url'>, stats: BrokerStats, members?: ClusterStatus): PlatformServiceInfo {
  if (opened.kind === 'memory') {
    return { name: 'broker', status: 'up', detail: 'in-process (single-node cluster; install rabbitmq-server or give --broker-url to add machines)' };
  }
  const where = opened.kind === 'managed' ? `this agent's RabbitMQ node at ${redactUrl(opened.url ?? '')}` : `RabbitMQ at ${redactUrl(opened.url ?? '')}`;
  if (stats.connected) return { name: 'broker', status: 'up', detail: members === undefined ? where : `${where}; ${describeCluster(members)}` };
  const seconds = Math.round((stats.disconnectedMs ?? 0) / 1000);
  const attempts = stats.reconnectAttempts === 1 ? '1 attempt' : `${stats.reconnectAttempts} attempts`;
  const why = stats.lastError === undefined ? '' : `; last error: ${stats.lastError}`;
  return { name: 'broker', status: 'down', detail: `${where}: disconnected for ${seconds} s, reconnecting (${attempts} so far${why})` };
}

/** "RabbitMQ cluster: 3 of 3 nodes running (kraken-a@10.0.0.5, ...)", and which are down. */
function describeCluster({ members, running }: ClusterStatus): string {
  const down = members.filter((node) => !running.includes(node));
  const size = members.length === 1 ? 'a cluster of one node' : `RabbitMQ cluster: ${running.length} of ${members.length} nodes running (${running.join(', ')})`;
  return down.length === 0 ? size : `${size}; down: ${down.join(', ')}`;
}
