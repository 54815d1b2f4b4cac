import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { DeploymentView } from '../client/queries.js';
import { Queries, deploymentStatusCell, humanStatus } from '../client/queries.js';

/** `kraken cancel <id>`: stops and removes a deployment's app. */
export async function cancelCommand(client: ApiClient, options: { id: string; json: boolean }, io: CommandIo): Promise<ExitCode> {
  const { cancelDeployment } = await client.graphql<{ cancelDeployment: string }>(Queries.cancelDeployment, { id: options.id });
  io.out(options.json ? JSON.stringify({ id: cancelDeployment, cancelled: true }) : `cancel requested for ${cancelDeployment}`);
  return ExitCode.Ok;
}

/**
 * `kraken rm <id>`: takes a Destroyed or Errored deployment off the list (the API refuses any
 * other: cancel it first). Its log stays readable with `kraken logs <id>` until the retention ends.
 */
export async function removeCommand(client: ApiClient, options: { id: string; json: boolean }, io: CommandIo): Promise<ExitCode> {
  const { removeDeployment } = await client.graphql<{ removeDeployment: { id: string; status: string; removedAt: number | null } }>(Queries.removeDeployment, {
    id: options.id,
  });
  io.out(
    options.json
      ? JSON.stringify({ id: removeDeployment.id, removed: true, status: removeDeployment.status, removedAt: removeDeployment.removedAt })
      : `removed ${removeDeployment.id} (${humanStatus(removeDeployment.status)}); its log stays readable with kraken logs ${removeDeployment.id} for a while`,
  );
  return ExitCode.Ok;
}

/** `kraken redeploy <id>`: builds the branch head again. */
export async function redeployCommand(client: ApiClient, options: { id: string; json: boolean }, io: CommandIo): Promise<ExitCode> {
  const { redeploy } = await client.graphql<{ redeploy: DeploymentView }>(Queries.redeploy, { id: options.id });
  io.out(options.json ? JSON.stringify(redeploy) : `redeploy requested for ${redeploy.id} (now ${humanStatus(redeploy.status)}); follow it with kraken ls`);
  return ExitCode.Ok;
}

interface StatusView {
  getPlatform: { orchestrator: string; epoch: number; nodes: { id: string; state: string }[]; deployments: { id: string; status: string; crashLooping: boolean; ready: boolean }[] };
  getPlatformServices: { name: string; status: string; detail: string }[];
}

/** `kraken status`: is the cluster healthy, at a glance. Fails (exit 1) when a platform service is down. */
export async function statusCommand(client: ApiClient, options: { json: boolean }, io: CommandIo): Promise<ExitCode> {
  const view = await client.graphql<StatusView>(Queries.status);
  const down = view.getPlatformServices.filter((service) => service.status !== 'up');
  // an agent that does not lead forwards to the leader, and says which one answered
  const { leader } = client;
  if (options.json) {
    io.out(JSON.stringify({ api: client.url, forwardedTo: leader ?? null, ...view }, null, 2));
    return down.length === 0 ? ExitCode.Ok : ExitCode.Failed;
  }
  const { getPlatform: platform } = view;
  const count = (labels: string[]) =>
    Object.entries(labels.reduce<Record<string, number>>((acc, label) => ({ ...acc, [label]: (acc[label] ?? 0) + 1 }), {}))
      .map(([label, n]) => `${n} ${label}`)
      .join(', ') || 'none';
  io.out(`api           ${client.url}${leader === undefined ? '' : ` (this agent forwards to the leader ${leader.nodeId} at ${leader.apiUrl})`}`);
  io.out(`orchestrator  ${platform.orchestrator} (term ${platform.epoch})`);
  io.out(`nodes         ${count(platform.nodes.map((node) => humanStatus(node.state)))}`);
  // a crash-looping app counts apart from the steady ones: it is down most of the time
  io.out(`deployments   ${count(platform.deployments.map((deployment) => deploymentStatusCell(deployment)))}`);
  for (const service of view.getPlatformServices) io.out(`${service.name.padEnd(13)} ${service.status}: ${service.detail}`);
  return down.length === 0 ? ExitCode.Ok : ExitCode.Failed;
}
