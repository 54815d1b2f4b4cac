// Hand-written typed operations. Each document's selection matches the result type beside it.
import type { ClusterNode, Deployment, EnvVarInput, LogLine, PlatformService } from './types.js';

/** A GraphQL document tagged with its variables and result types. */
export interface Operation<TResult, TVariables> {
  readonly query: string;
  /** Type-only markers; never set at runtime. */
  readonly _result?: TResult;
  readonly _variables?: TVariables;
}

function op<TResult, TVariables = Record<string, never>>(query: string): Operation<TResult, TVariables> {
  return { query };
}

const deploymentFields = `id srcUrl gitBranch commit port status statusMessage deploymentUrl node memMb maxMemMb cpuUsage placementReason watch
  statusHistory { status time message node } env { name value }`;
const nodeFields = `id model addr orchestrationPriority uptime ramFree ramUsed loadAvg5 currentRamPercent updateTime deployments state arch runtimes hostname`;

export const getOverview = op<{
  getDeployments: Deployment[];
  getNodes: ClusterNode[];
  getPlatform: { orchestrator: string; epoch: number };
}>(`query Overview { getDeployments { ${deploymentFields} } getNodes { ${nodeFields} } getPlatform { orchestrator epoch } }`);

export const getPlatformServices = op<{ getPlatformServices: PlatformService[] }>(
  `query PlatformServices { getPlatformServices { name status detail } }`,
);

export const getLogs = op<{ logs: { lines: LogLine[]; next: number; dropped: number } }, { deploymentId: string; after: number; limit: number }>(
  `query Logs($deploymentId: String!, $after: Int!, $limit: Int!) { logs(deploymentId: $deploymentId, after: $after, limit: $limit) { lines { seq stream text time } next dropped } }`,
);

export const createDeployment = op<
  { createDeployment: string },
  { deploymentUrl: string; gitBranch: string; env: EnvVarInput[]; watch: boolean }
>(
  `mutation CreateDeployment($deploymentUrl: String!, $gitBranch: String!, $env: [EnvVarInput!], $watch: Boolean) {
    createDeployment(deploymentUrl: $deploymentUrl, gitBranch: $gitBranch, env: $env, watch: $watch) }`,
);

export const cancelDeployment = op<{ cancelDeployment: string }, { deploymentId: string }>(
  `mutation CancelDeployment($deploymentId: String!) { cancelDeployment(deploymentId: $deploymentId) }`,
);

export const redeploy = op<{ redeploy: Deployment }, { deploymentId: string }>(
  `mutation Redeploy($deploymentId: String!) { redeploy(deploymentId: $deploymentId) { ${deploymentFields} } }`,
);

export const deploymentChanged = op<{ deploymentChanged: Deployment }>(`subscription DeploymentChanged { deploymentChanged { ${deploymentFields} } }`);

export const nodeChanged = op<{ nodeChanged: ClusterNode }>(`subscription NodeChanged { nodeChanged { ${nodeFields} } }`);

export const logLines = op<{ logLines: LogLine[] }, { deploymentId: string }>(
  `subscription LogLines($deploymentId: String!) { logLines(deploymentId: $deploymentId) { seq stream text time } }`,
);
