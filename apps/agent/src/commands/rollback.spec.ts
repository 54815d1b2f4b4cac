import { ExitCode } from '../client/exit-codes.js';
import type { DeploymentView } from '../client/queries.js';
import { Queries } from '../client/queries.js';
import { capturedIo as io, clientAnswering, deploymentView } from '../../test/command-client.js';
import { rollbackCommand } from './rollback.js';

const v1 = '1'.repeat(40);
const v2 = '2'.repeat(40);
const deployment = (status: string, history: string[], patch: Partial<DeploymentView> = {}) => deploymentView(status, history, { commit: v1, ...patch });

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
