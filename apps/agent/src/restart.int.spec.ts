// Issue 5: kill -9 of the orchestrator (here: the leading agent process, which also runs the
// node's worker) in the middle of a deployment. Started again on the same data dir, the
// deployment reaches Running, its status history is intact and nothing is duplicated.
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { eventually, freePort, gitFixtureRepo, isolatedVhost, manifestToml, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir } from '@kraken/testing';
import { ApiClient } from './client/api-client.js';
import type { WatchedProcess } from '@kraken/testing';
import { CLI, runKraken, spawnLongRunning } from '../test/cli-process.js';

const docker = new Docker();

interface Seen {
  id: string;
  status: string;
  statusHistory: { status: string; time: number }[];
}

describe('orchestrator killed with SIGKILL mid-deployment', () => {
  let dir: TempDir;
  let dataDir: string;
  let port: number;
  let agent: WatchedProcess | undefined;
  let deploymentId = '';
  // its own vhost: in the shared one, another Kraken on this machine would lead and take the work
  let vhost: IsolatedVhost;

  const startAgent = async () => {
    const spawned = spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', String(port), '--api-host', '127.0.0.1',
      '--broker-url', vhost.url, '--runtime', 'docker', '--no-mdns', '--public-host', '127.0.0.1', '--log-level', 'debug',
    ]);
    await spawned.waitFor(/Deploy an app: kraken deploy/, 60_000);
    return spawned;
  };

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-restart');
    dir = await tempDir('kraken-restart-');
    dataDir = path.join(dir.path, 'data');
    port = await freePort();
  });

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await agent?.exited;
    const containers = await docker.listContainers({ all: true, filters: { label: [`org.kraken.deployment=${deploymentId}`] } });
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await dir.remove();
    await vhost.remove();
  }, 60_000);

  it('resumes the deployment to Running with its history intact and one container', async () => {
    // a slow test step gives a wide window to kill in
    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = "sleep 4"', 'restart-app'),
      'server.js': "require('http').createServer((q, s) => s.end('ok')).listen(3000);",
    });
    agent = await startAgent();
    const created = await runKraken(['deploy', repo, '--no-follow', '--json', '--api', `http://127.0.0.1:${port}`, '--data-dir', dataDir]);
    expect(created.code).toBe(0);
    deploymentId = (JSON.parse(created.stdout) as { id: string }).id;
    const client = () => new ApiClient({ url: `http://127.0.0.1:${port}`, token: readToken() });
    const get = async () => (await client().graphql<{ getDeployment: Seen }>(
      'query($id: String!) { getDeployment(deploymentId: $id) { id status statusHistory { status time } } }', { id: deploymentId },
    )).getDeployment;

    const before = await eventually(async () => {
      const seen = await get();
      return ['BUILDING_DEPLOYMENT', 'TESTING_DEPLOYMENT'].includes(seen.status) ? seen : undefined;
    }, 180_000, 'the deployment reaching the build or test step');

    agent.kill('SIGKILL');
    await agent.exited;
    agent = await startAgent();

    const after = await eventually(async () => {
      const seen = await get();
      return seen.status === 'RUNNING' || seen.status === 'ERRORED' ? seen : undefined;
    }, 240_000, 'the deployment reaching a terminal status after the restart');
    expect(after.status).toBe('RUNNING');
    // nothing recorded before the kill was lost or rewritten
    expect(after.statusHistory.slice(0, before.statusHistory.length)).toEqual(before.statusHistory);
    const { getDeployments } = await client().graphql<{ getDeployments: { id: string }[] }>('query { getDeployments { id } }');
    expect(getDeployments.map((d) => d.id)).toEqual([deploymentId]);
    const containers = await docker.listContainers({ all: true, filters: { label: [`org.kraken.deployment=${deploymentId}`, 'org.kraken.role=app'] } });
    expect(containers).toHaveLength(1);
  }, 600_000);

  function readToken(): string {
    return (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
  }
});
