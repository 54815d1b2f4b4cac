// The GraphQL operations the CLI sends, with the shapes it reads back.

interface StatusEntry {
  status: string;
  time: number;
  message: string | null;
  node: string | null;
}

export interface DeploymentView {
  id: string;
  srcUrl: string;
  gitBranch: string;
  commit: string | null;
  port: string | null;
  status: string;
  statusMessage: string | null;
  deploymentUrl: string | null;
  /** The name every agent's ingress answers for; null for an adopted deployment without one. */
  name: string | null;
  /** http://<name>.local: the address that stays across moves and redeploys. */
  appUrl: string | null;
  node: string | null;
  placementReason: string | null;
  /** Another node holding a build of its commit, so losing its node means a start there, not a build; null unless it runs. */
  failover: { node: string; commit: string; state: 'asked' | 'building' | 'ready' | 'failed'; message: string | null } | null;
  watch: boolean;
  statusHistory: StatusEntry[];
  /** RUNNING, but the app keeps ending and its runtime restarting it. */
  crashLooping: boolean;
  restartCount: number;
  lastExit: { code: number | null; signal: string | null; time: number; reason: string } | null;
  /** false while RUNNING but not answering HTTP on its port: the ingress sends it nothing. */
  ready: boolean;
  /** Its last answer, in Unix seconds, while not ready. */
  notReadySince: number | null;
}

export interface NodeView {
  id: string;
  hostname: string;
  addr: string | null;
  state: string;
  runtimes: string[];
  /** What its runtime enforces, in words; null from agents that do not say. */
  isolation: string | null;
  ramFree: number;
  ramUsed: number;
  ramTotal: number;
  loadAvg5: number;
  /** Busy share of all cores over its last heartbeat interval; null from agents that do not report it. */
  cpuPercent: number | null;
  /** The filesystem of its data dir; null from agents that do not report it. */
  diskUsedMb: number | null;
  diskTotalMb: number | null;
  orchestrationPriority: number | null;
  deployments: string[];
  /** Readings a custom agent adds to its heartbeat (e.g. temperature.celsius). */
  extensions: { key: string; value: string }[];
  /** Silence after which the leader declares it dead, learned from its heartbeats; null before the first. */
  noticeLossAfterMs: number | null;
  reachable: boolean;
}

export interface LogLineView {
  seq: number;
  stream: string;
  text: string;
  time: number;
}

export interface ReleaseView {
  number: number;
  commit: string | null;
  trigger: string;
  /** Unix seconds. */
  startedAt: number;
  endedAt: number | null;
  durationMs: number;
  result: 'BUILDING' | 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED' | 'CANCELLED';
  reason: string | null;
}

const deploymentFields = `id srcUrl gitBranch commit port status statusMessage deploymentUrl name appUrl node placementReason watch
  failover { node commit state message } statusHistory { status time message node } crashLooping restartCount lastExit { code signal time reason } ready notReadySince`;

const nodeFields =
  'id hostname addr state runtimes isolation ramFree ramUsed ramTotal loadAvg5 cpuPercent diskUsedMb diskTotalMb orchestrationPriority deployments extensions { key value } noticeLossAfterMs reachable';

export const Queries = {
  createDeployment: `mutation($url: String!, $branch: String!, $env: [EnvVarInput!], $watch: Boolean, $name: String) {
    createDeployment(deploymentUrl: $url, gitBranch: $branch, env: $env, watch: $watch, name: $name) }`,
  getDeployment: `query($id: String!) { getDeployment(deploymentId: $id) { ${deploymentFields} } }`,
  getDeployments: `query { getDeployments { ${deploymentFields} } }`,
  getNodes: `query { getNodes { ${nodeFields} } }`,
  getNodesWithHistory: `query { getNodes { ${nodeFields} history { at cpuPercent memUsedMb memTotalMb diskUsedMb diskTotalMb } } }`,
  cancelDeployment: `mutation($id: String!) { cancelDeployment(deploymentId: $id) }`,
  removeDeployment: `mutation($id: String!) { removeDeployment(deploymentId: $id) { id status removedAt } }`,
  redeploy: `mutation($id: String!) { redeploy(deploymentId: $id) { ${deploymentFields} } }`,
  getEnv: `query($id: String!) { getDeployment(deploymentId: $id) { id status statusMessage env { name value } } }`,
  setEnv: `mutation($id: String!, $set: [EnvVarInput!], $unset: [String!]) {
    setEnv(deploymentId: $id, set: $set, unset: $unset) { id status statusMessage env { name value } } }`,
  stopDeployment: `mutation($id: String!) { stopDeployment(deploymentId: $id) { ${deploymentFields} } }`,
  startDeployment: `mutation($id: String!) { startDeployment(deploymentId: $id) { ${deploymentFields} } }`,
  restartDeployment: `mutation($id: String!) { restartDeployment(deploymentId: $id) { ${deploymentFields} } }`,
  rollbackDeployment: `mutation($id: String!, $commit: String) { rollbackDeployment(deploymentId: $id, commit: $commit) { ${deploymentFields} } }`,
  logs: `query($id: String!, $after: Int!, $limit: Int!, $release: Int) { logs(deploymentId: $id, after: $after, limit: $limit, release: $release) {
    lines { seq stream text time } next dropped } }`,
  getReleases: `query($id: String!) { getReleases(deploymentId: $id) { number commit trigger startedAt endedAt durationMs result reason } }`,
  status: `query { getPlatform { orchestrator epoch nodes { id state } deployments { id status crashLooping ready } }
    getPlatformServices { name status detail } }`,
} as const;

/**
 * A deployment's status as `kraken ls` shows it: "running, crash-looping" for an app that keeps
 * ending, "running, not answering" for one that runs but fails its ready checks (a crash loop says
 * more, so it wins).
 */
export function deploymentStatusCell(deployment: Pick<DeploymentView, 'status' | 'crashLooping' | 'ready'>): string {
  if (deployment.status !== 'RUNNING') return humanStatus(deployment.status);
  if (deployment.crashLooping) return 'running, crash-looping';
  return deployment.ready ? humanStatus(deployment.status) : 'running, not answering';
}

/** "not answering since 2026-12-07T03:00:05.000Z: the ingress sends it nothing until it answers", or undefined. */
export function notAnsweringNote(deployment: Pick<DeploymentView, 'status' | 'crashLooping' | 'ready' | 'notReadySince'>): string | undefined {
  if (deployment.status !== 'RUNNING' || deployment.crashLooping || deployment.ready) return undefined;
  const since = deployment.notReadySince === null ? '' : ` since ${new Date(deployment.notReadySince * 1000).toISOString()}`;
  return `not answering${since}: the ingress sends it nothing until it answers`;
}

/** "crash-looping: 3 restarts, last exited with code 1 after 3.0 s at 12:00:03", or undefined for a steady app. */
export function crashLoopNote(deployment: Pick<DeploymentView, 'status' | 'crashLooping' | 'restartCount' | 'lastExit'>): string | undefined {
  if (!deployment.crashLooping || deployment.status !== 'RUNNING') return undefined;
  const restarts = `${String(deployment.restartCount)} restart${deployment.restartCount === 1 ? '' : 's'}`;
  const last = deployment.lastExit;
  return last === null ? `crash-looping: ${restarts}` : `crash-looping: ${restarts}, last ${last.reason} at ${new Date(last.time * 1000).toISOString()}`;
}

/** "BUILDING_DEPLOYMENT" -> "building deployment": what a person reads in progress lines. */
export function humanStatus(status: string): string {
  return status.toLowerCase().replace(/_/g, ' ');
}
