import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { DeploymentView } from '../client/queries.js';
import { Queries } from '../client/queries.js';
import { rollbackCommand } from './rollback.js';

const v1 = '1'.repeat(40);
const v2 = '2'.repeat(40);

function deployment(status: string, history: string[], patch: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: 'blog-1a2b3c',
    srcUrl: 'https://git.lan/blog.git',
    gitBranch: 'main',
    commit: v1,
    port: '20001',
    status,
    statusMessage: null,
    deploymentUrl: 'http://10.0.0.2:20001',
    name: 'blog',
    appUrl: 'http://blog.local',
    node: 'node-a',
    placementReason: null,
    watch: false,
    statusHistory: history.map((entry, index) => ({ status: entry, time: index, message: null, node: 'node-a' })),
    crashLooping: false,
    restartCount: 0,
    lastExit: null,
    ...patch,
  };
}

/** A client that answers the mutation with `requested`, then each getDeployment with the next of `then`. */
function clientAnswering(requested: DeploymentView, then: DeploymentView[]): { client: ApiClient; asked: { query: string; variables: unknown }[] } {
  const asked: { query: string; variables: unknown }[] = [];
  const client = {
    graphql: (query: string, variables: unknown) => {
      asked.push({ query, variables });
      if (query === Queries.getDeployment) return Promise.resolve({ getDeployment: then.shift() ?? requested });
      return Promise.resolve({ rollbackDeployment: requested });
    },
  } as unknown as ApiClient;
  return { client, asked };
}

function io(): { out: string[]; err: string[]; io: { out: (line: string) => void; err: (line: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line) => out.push(line), err: (line) => err.push(line) } };
}

const before = ['RUNNING', 'UPDATE_REQUESTED'];

describe('kraken rollback', () => {
  it('asks for the commit given with --to, waits for Running on it and says how it got there', async () => {
    const running = deployment('RUNNING', [...before, 'DEPLOYING', 'RUNNING'], { statusMessage: 'running the kept build of 1111111; nothing was rebuilt' });
    const { client, asked } = clientAnswering(deployment('UPDATE_REQUESTED', before), [deployment('DEPLOYING', [...before, 'DEPLOYING']), running]);
    const output = io();
    await expect(rollbackCommand(client, { id: 'blog-1a2b3c', to: '1111111', json: false, noWait: false, pollMs: 1 }, output.io)).resolves.toBe(ExitCode.Ok);
    expect(asked[0]).toEqual({ query: Queries.rollbackDeployment, variables: { id: 'blog-1a2b3c', commit: '1111111' } });
    expect(output.out).toEqual(['rolled back blog-1a2b3c to 1111111 (running the kept build of 1111111; nothing was rebuilt): http://blog.local']);
  });

  it('asks for the default version when no commit is given, and returns at once with --no-wait', async () => {
    const { client, asked } = clientAnswering(deployment('UPDATE_REQUESTED', before), []);
    const output = io();
    await expect(rollbackCommand(client, { id: 'blog-1a2b3c', json: false, noWait: true }, output.io)).resolves.toBe(ExitCode.Ok);
    expect(asked).toEqual([{ query: Queries.rollbackDeployment, variables: { id: 'blog-1a2b3c', commit: null } }]);
    expect(output.out).toEqual(['rollback to 1111111 requested for blog-1a2b3c (now update requested)']);
  });

  it('exits 1 when the previous version keeps running because the rollback failed', async () => {
    const failed = deployment('RUNNING', [...before, 'RUNNING'], { commit: v2, statusMessage: 'redeploy failed: build failed; the previous version (2222222) keeps running' });
    const { client } = clientAnswering(deployment('UPDATE_REQUESTED', before), [failed]);
    const output = io();
    await expect(rollbackCommand(client, { id: 'blog-1a2b3c', json: false, noWait: false, pollMs: 1 }, output.io)).resolves.toBe(ExitCode.Failed);
    expect(output.err).toEqual(['rollback of blog-1a2b3c to 1111111 did not complete: it is running on 2222222 (redeploy failed: build failed; the previous version (2222222) keeps running)']);
  });
});
