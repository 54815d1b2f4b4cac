/**
 * `kraken-<nodeId>-<deploymentId>`, what a deployment's instance is called: readable in `docker ps`
 * (it names the container), and unique per engine even when several nodes share one (a laptop
 * cluster, a test harness): a deployment moved from a dead node to a live one on the same engine
 * must not clash with the dead node's container.
 */
export function instanceName(deploymentId: string, nodeId: string): string {
  return `kraken-${nodeId}-${deploymentId}`;
}
