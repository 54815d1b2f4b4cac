import { ErrorCode, KrakenError } from '@kraken/common';
import { Runtime } from '@kraken/messages';
import type { Deployer, EngineProbe } from '@kraken/worker';

// This agent runs its own executor and no apps, but a Worker always has a deployer: it answers the
// orchestrator's deploy commands. To run apps as well, pass a DockerDeployer from
// @kraken/docker-deployer instead (see the README).

const noApps = (deploymentId: string, what: string): Promise<never> =>
  Promise.reject(
    new KrakenError(ErrorCode.Unavailable, `this node is a custom agent that runs no apps: cannot ${what} ${deploymentId}`, {
      deploymentId,
    }),
  );

/** Refuses every deploy with a reason that reaches the orchestrator as an Errored status. */
export const noAppsDeployer: Deployer = {
  runtime: Runtime.Process,
  deploy: (request) => noApps(request.deploymentId, 'deploy'),
  stop: (deploymentId) => noApps(deploymentId, 'stop'),
  stopApp: (deploymentId) => noApps(deploymentId, 'stop'),
  startApp: (deploymentId) => noApps(deploymentId, 'start'),
  // nothing to take over after a restart
  list: () => Promise.resolve([]),
  followLogs: (deploymentId) => noApps(deploymentId, 'follow the logs of'),
  stats: (deploymentId) => noApps(deploymentId, 'measure'),
};

/**
 * The worker lists a runtime in node.info only while its engine answers a ping. This one never
 * does, so heartbeats say `runtimes: []` and an orchestrator never places an app on this node.
 */
export const noAppsEngine: EngineProbe = {
  ping: () => Promise.reject(new Error('no app runtime on this node')),
};
