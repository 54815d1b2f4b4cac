/** Labels on every container and image the deployer makes, so they are found again after a restart. */
export const Label = {
  Deployment: 'org.kraken.deployment',
  Node: 'org.kraken.node',
  App: 'org.kraken.app',
  Commit: 'org.kraken.commit',
  Port: 'org.kraken.port',
  /** The path the ready check asks, so a start without the manifest asks the same. */
  Endpoint: 'org.kraken.endpoint',
  /** `app` for the running container, `test` for the throwaway test container. */
  Role: 'org.kraken.role',
  /**
   * On app containers: the manifest (JSON) the app was built and started from, so a settings change
   * starts it again from its image without the checkout, which is gone after the build.
   */
  Manifest: 'org.kraken.manifest',
  /** On app containers: the memory limit in MB, so an exit at the limit can name it. */
  MemoryMb: 'org.kraken.memory-mb',
} as const;

export type ContainerRole = 'app' | 'test';

export interface LabelInput {
  deploymentId: string;
  nodeId: string;
  appName: string;
  commit: string;
  role: ContainerRole;
  /** The app's port inside the container, when it has one. */
  port?: number | undefined;
  /** The manifest's endpoint (app containers). */
  endpoint?: string | undefined;
  /** The container's memory limit (app containers). */
  memoryMb?: number | undefined;
}

export function buildLabels(input: LabelInput): Record<string, string> {
  return {
    [Label.Deployment]: input.deploymentId,
    [Label.Node]: input.nodeId,
    [Label.App]: input.appName,
    [Label.Commit]: input.commit,
    [Label.Role]: input.role,
    ...(input.port === undefined ? {} : { [Label.Port]: String(input.port) }),
    ...(input.endpoint === undefined ? {} : { [Label.Endpoint]: input.endpoint }),
    ...(input.memoryMb === undefined ? {} : { [Label.MemoryMb]: String(input.memoryMb) }),
  };
}

/**
 * Labels of a built image: the same for every deployment of one commit on one node, so a redeploy
 * of that commit hits the build cache at every step. The image's tag names the deployment.
 */
export function imageLabels(input: { nodeId: string; appName: string; commit: string }): Record<string, string> {
  return { [Label.Node]: input.nodeId, [Label.App]: input.appName, [Label.Commit]: input.commit };
}

/** Docker `filters` for this node's containers, optionally one deployment's. */
export function labelFilters(nodeId: string, role: ContainerRole, deploymentId?: string): { label: string[] } {
  return {
    label: [`${Label.Node}=${nodeId}`, `${Label.Role}=${role}`, ...(deploymentId === undefined ? [] : [`${Label.Deployment}=${deploymentId}`])],
  };
}

/** `kraken/<app>:<deploymentId>`, lowercased because image references must be. */
export function imageTag(appName: string, deploymentId: string): string {
  return `kraken/${appName}:${deploymentId}`.toLowerCase();
}
