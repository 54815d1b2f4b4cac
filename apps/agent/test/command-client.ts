// What the unit tests of the deployment commands (stop/start/restart, rollback) share: a deployment
// as the API shows it, a client that answers the command's mutation and then each poll in turn, and
// captured output.
import type { ApiClient } from '../src/client/api-client.js';
import type { DeploymentView } from '../src/client/queries.js';
import { Queries } from '../src/client/queries.js';

export function deploymentView(status: string, history: string[], patch: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: 'blog-1a2b3c',
    srcUrl: 'https://git.lan/blog.git',
    gitBranch: 'main',
    commit: 'a'.repeat(40),
    port: '20001',
    status,
    statusMessage: null,
    deploymentUrl: 'http://10.0.0.2:20001',
    name: 'blog',
    appUrl: 'http://blog.local',
    node: 'node-a',
    placementReason: null,
    failover: null,
    watch: false,
    statusHistory: history.map((entry, index) => ({ status: entry, time: index, message: null, node: 'node-a' })),
    crashLooping: false,
    restartCount: 0,
    lastExit: null,
    ready: true,
    notReadySince: null,
    ...patch,
  };
}

export interface Asked {
  query: string;
  variables: unknown;
}

/** A client that answers the mutation with `requested`, then each getDeployment with the next of `then`. */
export function clientAnswering(requested: DeploymentView, then: DeploymentView[]): { client: ApiClient; asked: Asked[] } {
  const asked: Asked[] = [];
  const client = {
    graphql: (query: string, variables: unknown) => {
      asked.push({ query, variables });
      if (query === Queries.getDeployment) return Promise.resolve({ getDeployment: then.shift() ?? requested });
      const field = /\{ (\w+)\(/.exec(query)?.[1] ?? '';
      return Promise.resolve({ [field]: requested });
    },
  } as unknown as ApiClient;
  return { client, asked };
}

export function capturedIo(): { out: string[]; err: string[]; io: { out: (line: string) => void; err: (line: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line) => out.push(line), err: (line) => err.push(line) } };
}
