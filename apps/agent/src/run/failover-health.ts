import type { PlatformServiceInfo } from '@kraken/orchestrator';
import type { ClusterStatus } from '@kraken/rabbitmq';

/**
 * Who takes over if this leader fails, as getPlatformServices (the Platform page, `kraken status`)
 * shows it: the standbys are the other members of the agents' RabbitMQ cluster (each keeps a copy
 * of the store and is a candidate for the lease). Down when a member stopped running.
 */
export function failoverService(leaderId: string, members: ClusterStatus | undefined): PlatformServiceInfo {
  if (members === undefined) return { name: 'failover', status: 'up', detail: `leader ${leaderId}; standbys not known yet` };
  const standbys = members.running.filter((node) => !node.startsWith(`kraken-${leaderId}@`)).map(nodeIdOf).sort();
  const down = members.members.filter((node) => !members.running.includes(node)).map(nodeIdOf).sort();
  // a member that stopped answering is a degraded cluster: say so loudly
  const status = down.length === 0 ? 'up' : 'down';
  const missing = down.length === 0 ? '' : `; not running: ${down.join(', ')}`;
  if (members.members.length >= 3) {
    const takesOver = standbys.length >= 1 ? 'one takes over if the leader fails' : 'none running: nothing takes over';
    return { name: 'failover', status, detail: `leader ${leaderId}; standbys: ${standbys.join(', ') || 'none'} (${takesOver})${missing}` };
  }
  if (members.members.length === 2) {
    return {
      name: 'failover',
      status,
      detail: `leader ${leaderId}; standby ${standbys.join(', ') || 'down'}, but two machines have no majority: nothing takes over automatically. If the leader's machine is lost, run \`kraken promote\` on the standby; a third machine that may lead makes failover automatic${missing}`,
    };
  }
  return { name: 'failover', status, detail: `leader ${leaderId}; no standby: nothing takes over if it fails (machines that join with --priority 0 or 1 become standbys)` };
}

/** `kraken-<node id>@<address>` -> the node id. */
function nodeIdOf(rabbitNode: string): string {
  return rabbitNode.slice('kraken-'.length, rabbitNode.lastIndexOf('@'));
}
