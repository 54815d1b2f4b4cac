import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { DeploymentView, NodeView } from '../client/queries.js';
import { Queries, crashLoopNote, deploymentStatusCell, notAnsweringNote } from '../client/queries.js';
import { formatTable } from '../client/table.js';

/** `kraken ls`: every deployment, one line each. */
export async function listCommand(client: ApiClient, options: { json: boolean }, io: CommandIo): Promise<ExitCode> {
  const { getDeployments } = await client.graphql<{ getDeployments: DeploymentView[] }>(Queries.getDeployments);
  if (options.json) {
    io.out(JSON.stringify(getDeployments, null, 2));
    return ExitCode.Ok;
  }
  if (getDeployments.length === 0) {
    io.out('no deployments yet: kraken deploy <git-url>');
    return ExitCode.Ok;
  }
  io.out(
    formatTable(
      ['ID', 'STATUS', 'RESTARTS', 'NODE', 'URL', 'INSTANCE', 'BRANCH', 'COMMIT', 'FAILOVER'],
      getDeployments.map((d) => [d.id, deploymentStatusCell(d), d.restartCount, d.node, d.appUrl, d.deploymentUrl, d.gitBranch, d.commit?.slice(0, 8), failoverCell(d)]),
    ),
  );
  // why an app is down most of the time or gets no requests, which the table has no room for
  for (const d of getDeployments) {
    const note = crashLoopNote(d) ?? notAnsweringNote(d);
    if (note !== undefined) io.out(`${d.id}: ${note}`);
  }
  return ExitCode.Ok;
}

/** Where a move would go and whether it would be a start ("pi-2 ready") or still a build ("pi-2 building"). */
function failoverCell(deployment: Pick<DeploymentView, 'failover'>): string {
  const failover = deployment.failover;
  return failover === null ? '-' : `${failover.node} ${failover.state}`;
}

/** `kraken nodes`: the machines of the cluster and their load. */
export async function nodesCommand(client: ApiClient, options: { json: boolean }, io: CommandIo): Promise<ExitCode> {
  const { getNodes } = await client.graphql<{ getNodes: NodeView[] }>(Queries.getNodes);
  if (options.json) {
    io.out(JSON.stringify(getNodes, null, 2));
    return ExitCode.Ok;
  }
  // custom agents' readings get a column only when some node sends any, so plain clusters stay narrow
  const withExtras = getNodes.some((n) => n.extensions.length > 0);
  io.out(
    formatTable(
      ['ID', 'STATE', 'DEAD AFTER', 'ADDRESS', 'RUNTIME', 'RAM FREE', 'LOAD', 'CPU', 'DISK', 'APPS', 'ROLE', ...(withExtras ? ['EXTRA'] : [])],
      getNodes.map((n) => [
        n.id,
        // a suspect node whose pulses arrive keeps its apps: say why it is not dead
        n.state === 'SUSPECT' && n.reachable ? 'suspect, reachable' : n.state.toLowerCase(),
        // how long a silence the leader gives this node before moving its apps: longer on a lossy link
        n.noticeLossAfterMs === null ? '-' : `${(n.noticeLossAfterMs / 1000).toFixed(1)} s`,
        n.addr,
        runtimeCell(n),
        `${n.ramFree} MB`,
        n.loadAvg5.toFixed(2),
        cpuCell(n),
        diskCell(n),
        n.deployments.length,
        n.orchestrationPriority === 0 ? 'leader' : n.orchestrationPriority === 1 ? 'standby' : 'worker',
        ...(withExtras ? [n.extensions.map(({ key, value }) => `${key}=${value}`).join(' ')] : []),
      ]),
    ),
  );
  return ExitCode.Ok;
}

/** Busy share of all cores over the last heartbeat interval: "12%", or "-" from an agent that does not say. */
export function cpuCell(node: Pick<NodeView, 'cpuPercent'>): string {
  return node.cpuPercent === null ? '-' : `${node.cpuPercent.toFixed(0)}%`;
}

/** "12.3/58.0 GB (21%)" of the data dir's filesystem, or "-" from an agent that does not say. */
export function diskCell(node: Pick<NodeView, 'diskUsedMb' | 'diskTotalMb'>): string {
  if (node.diskUsedMb === null || node.diskTotalMb === null) return '-';
  return usedOfTotal(node.diskUsedMb, node.diskTotalMb);
}

/** "3.1/7.8 GB (40%)": used and total in one unit, so the two compare at a glance. */
export function usedOfTotal(usedMb: number, totalMb: number): string {
  const percent = totalMb > 0 ? ` (${((usedMb / totalMb) * 100).toFixed(0)}%)` : '';
  if (totalMb < 1024) return `${Math.round(usedMb)}/${Math.round(totalMb)} MB${percent}`;
  return `${(usedMb / 1024).toFixed(1)}/${(totalMb / 1024).toFixed(1)} GB${percent}`;
}

/**
 * The runtime and what it enforces: "docker: container, limits", "process: runs as the agent's
 * user, no limits". A node whose Docker engine stopped answering has none to run apps with.
 */
function runtimeCell(node: NodeView): string {
  const runtimes = node.runtimes.length === 0 ? 'none' : node.runtimes.join(',');
  return node.isolation === null || node.runtimes.length === 0 ? runtimes : `${runtimes}: ${node.isolation}`;
}
