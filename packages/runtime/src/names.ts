/**
 * `kraken-<nodeId>-<deploymentId>`: readable in `docker ps`, and unique per engine even when
 * several nodes share one (a laptop cluster, a test harness): a deployment moved from a dead node
 * to a live one on the same engine must not clash with the dead node's container.
 */
export function containerName(deploymentId: string, nodeId: string): string {
  return `kraken-${nodeId}-${deploymentId}`;
}
