import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { Label } from '@kraken/docker-deployer';

export const docker = new Docker({ socketPath: process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock' });

/** The repository's dockerfiles/: the templates' source of truth, so no copy step is needed. */
export const templatesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dockerfiles');

/** App containers (any state) of one deployment on the engine, whichever node made them. */
export function appContainersOf(deploymentId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${Label.Deployment}=${deploymentId}`, `${Label.Role}=app`] } });
}

/** The `org.kraken.node` label of a container: which node owns it. */
export function ownerOf(container: Docker.ContainerInfo): string | undefined {
  return container.Labels[Label.Node];
}

/**
 * Removes every container and image labelled with one of `nodeIds` or `deploymentIds`, in any
 * state: what a test made, and only that.
 */
export async function removeKrakenResources(ids: { nodeIds: Iterable<string>; deploymentIds: Iterable<string> }): Promise<void> {
  const filters = [
    ...[...ids.nodeIds].map((id) => `${Label.Node}=${id}`),
    ...[...ids.deploymentIds].map((id) => `${Label.Deployment}=${id}`),
  ];
  const containerIds = new Set<string>();
  const imageIds = new Set<string>();
  // docker ANDs label filters, so each one is its own query
  for (const label of filters) {
    for (const info of await docker.listContainers({ all: true, filters: { label: [label] } })) containerIds.add(info.Id);
    for (const image of await docker.listImages({ filters: { label: [label] } })) imageIds.add(image.Id);
  }
  for (const id of containerIds) await docker.getContainer(id).remove({ force: true }).catch(ignoreMissing);
  for (const id of imageIds) await docker.getImage(id).remove({ force: true }).catch(ignoreMissing);
}

function ignoreMissing(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 404) throw error;
}
