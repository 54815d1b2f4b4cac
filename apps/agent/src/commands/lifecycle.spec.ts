import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { DeploymentView } from '../client/queries.js';
import { Queries } from '../client/queries.js';
import { lifecycleCommand } from './lifecycle.js';

function deployment(status: string, history: string[], patch: Partial<DeploymentView> = {}): DeploymentView {
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
    watch: false,
    statusHistory: history.map((entry, index) => ({ status: entry, time: index, message: null, node: 'node-a' })),
    crashLooping: false,
    restartCount: 0,
    lastExit: null,
    ...patch,
  };
}

/** A client that answers the mutation with `requested`, then each getDeployment with the next of `then`. */
function clientAnswering(requested: DeploymentView, then: DeploymentView[]): { client: ApiClient; asked: string[] } {
  const asked: string[] = [];
  const client = {
    graphql: (query: string) => {
      asked.push(query);
      if (query === Queries.getDeployment) return Promise.resolve({ getDeployment: then.shift() ?? requested });
      const field = /\{ (\w+)\(/.exec(query)?.[1] ?? '';
      return Promise.resolve({ [field]: requested });
    },
  } as unknown as ApiClient;
  return { client, asked };
}

function io(): { out: string[]; err: string[]; io: { out: (line: string) => void; err: (line: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line) => out.push(line), err: (line) => err.push(line) } };
}

describe('kraken stop / start / restart', () => {
  it('waits for the node to report Stopped after a stop', async () => {
    const { client, asked } = clientAnswering(deployment('RUNNING', ['RUNNING']), [deployment('RUNNING', ['RUNNING']), deployment('STOPPED', ['RUNNING', 'STOPPED'])]);
    const output = io();
    await expect(lifecycleCommand(client, 'stop', { id: 'blog-1a2b3c', json: false, noWait: false, pollMs: 1 }, output.io)).resolves.toBe(ExitCode.Ok);
    expect(asked[0]).toBe(Queries.stopDeployment);
    expect(output.out).toEqual(['stopped blog-1a2b3c']);
  });

  it('waits through Deploying to Running after a start, and names the app address', async () => {
    const { client } = clientAnswering(deployment('DEPLOYING', ['STOPPED', 'DEPLOYING']), [deployment('DEPLOYING', ['STOPPED', 'DEPLOYING']), deployment('RUNNING', ['STOPPED', 'DEPLOYING', 'RUNNING'])]);
    const output = io();
    await expect(lifecycleCommand(client, 'start', { id: 'blog-1a2b3c', json: false, noWait: false, pollMs: 1 }, output.io)).resolves.toBe(ExitCode.Ok);
    expect(output.out).toEqual(['started blog-1a2b3c without a build: http://blog.local']);
  });

  it('exits 1 with the reason when the start failed and the deployment stayed stopped', async () => {
    const failed = deployment('STOPPED', ['STOPPED', 'DEPLOYING', 'STOPPED'], { statusMessage: 'could not start it: app exited right after it was started again' });
    const { client } = clientAnswering(deployment('DEPLOYING', ['STOPPED', 'DEPLOYING']), [failed]);
    const output = io();
    await expect(lifecycleCommand(client, 'restart', { id: 'blog-1a2b3c', json: false, noWait: false, pollMs: 1 }, output.io)).resolves.toBe(ExitCode.Failed);
    expect(output.err).toEqual(['restart of blog-1a2b3c did not complete: it is stopped (could not start it: app exited right after it was started again)']);
  });

  it('returns at once with --no-wait, saying what it requested', async () => {
    const { client, asked } = clientAnswering(deployment('DEPLOYING', ['RUNNING', 'DEPLOYING']), []);
    const output = io();
    await expect(lifecycleCommand(client, 'restart', { id: 'blog-1a2b3c', json: false, noWait: true }, output.io)).resolves.toBe(ExitCode.Ok);
    expect(asked).toEqual([Queries.restartDeployment]);
    expect(output.out).toEqual(['restart requested for blog-1a2b3c (now deploying)']);
  });
});
