import { ExitCode } from '../client/exit-codes.js';
import { Queries } from '../client/queries.js';
import { capturedIo as io, clientAnswering, deploymentView as deployment } from '../../test/command-client.js';
import { lifecycleCommand } from './lifecycle.js';

describe('kraken stop / start / restart', () => {
  it('waits for the node to report Stopped after a stop', async () => {
    const { client, asked } = clientAnswering(deployment('RUNNING', ['RUNNING']), [deployment('RUNNING', ['RUNNING']), deployment('STOPPED', ['RUNNING', 'STOPPED'])]);
    const output = io();
    await expect(lifecycleCommand(client, 'stop', { id: 'blog-1a2b3c', json: false, noWait: false, pollMs: 1 }, output.io)).resolves.toBe(ExitCode.Ok);
    expect(asked[0]?.query).toBe(Queries.stopDeployment);
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
    expect(asked.map((entry) => entry.query)).toEqual([Queries.restartDeployment]);
    expect(output.out).toEqual(['restart requested for blog-1a2b3c (now deploying)']);
  });
});
