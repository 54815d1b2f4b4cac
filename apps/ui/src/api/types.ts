// Shapes of the orchestrator's GraphQL types as the UI selects them (packages/orchestrator/schema.graphql).

export const applicationStatuses = [
  'DEPLOYMENT_REQUESTED',
  'VALIDATING_DEPLOYMENT_DATA',
  'RETRIEVING_APPLICATION_DATA',
  'DELEGATING_DEPLOYMENT',
  'BUILDING_DEPLOYMENT',
  'TESTING_DEPLOYMENT',
  'DEPLOYING',
  'RUNNING',
  'DESTRUCTION_REQUESTED',
  'DELEGATING_DESTRUCTION',
  'DESTRUCTION_IN_PROGRESS',
  'DESTROYED',
  'UPDATE_REQUESTED',
  'ERRORED',
] as const;
export type ApplicationStatus = (typeof applicationStatuses)[number];

export type NodeState = 'ALIVE' | 'SUSPECT' | 'DEAD';

export interface StatusHistoryItem {
  status: ApplicationStatus;
  /** Unix seconds. */
  time: number;
  message: string | null;
  node: string | null;
}

export interface Deployment {
  id: string;
  srcUrl: string;
  gitBranch: string;
  commit: string | null;
  port: string | null;
  status: ApplicationStatus;
  statusMessage: string | null;
  statusHistory: StatusHistoryItem[];
  deploymentUrl: string | null;
  node: string | null;
  memMb: number | null;
  maxMemMb: number | null;
  cpuUsage: number | null;
  placementReason: string | null;
  watch: boolean;
  env: { name: string; value: string }[];
}

export interface ClusterNode {
  id: string;
  model: string;
  addr: string | null;
  orchestrationPriority: number | null;
  uptime: number;
  ramFree: number;
  ramUsed: number;
  loadAvg5: number;
  currentRamPercent: number;
  /** Unix seconds of the last heartbeat. */
  updateTime: number;
  deployments: string[];
  state: NodeState;
  arch: string;
  runtimes: string[];
  hostname: string;
}

export interface PlatformService {
  name: string;
  status: string;
  detail: string;
}

export interface LogLine {
  seq: number;
  stream: string;
  text: string;
  time: number;
}

export interface EnvVarInput {
  name: string;
  value: string;
}
