// Issue 16, item 7: no orphans. The leading agent's database is deleted under a running app and the
// agent started again: it says its state is gone, adopts the app its worker reports running, and
// the app is listed and can be cancelled, instead of holding its port unseen. Real agent processes
// on the real RabbitMQ (a vhost of the test's own), apps as processes.
import fs from 'node:fs';
import path from 'node:path';
import { eventually, freePort, gitFixtureRepo, isolatedVhost, manifestToml, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { CLI, runKraken, spawnLongRunning } from '../test/cli-process.js';

interface Listed {
  id: string;
  status: string;
  srcUrl: string;
}

describe('an orchestrator whose database is gone', () => {
  let dir: TempDir;
  let vhost: IsolatedVhost;
  let dataDir: string;
  let api: string;
  let agent: WatchedProcess | undefined;
  const kraken = (...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir]);
  const startAgent = async () => {
    const started = spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', new URL(api).port, '--api-host', '127.0.0.1',
      '--broker-url', vhost.url, '--runtime', 'process', '--no-mdns', '--public-host', '127.0.0.1',
    ]);
    await started.waitFor(/Deploy an app: kraken deploy/, 90_000);
    return started;
  };

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-lost-state');
    dir = await tempDir('kraken-lost-state-');
    dataDir = path.join(dir.path, 'data');
    api = `http://127.0.0.1:${String(await freePort())}`;
  });

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await agent?.exited;
    await dir.remove();
    await vhost.remove();
  }, 60_000);

  it('adopts the app its node reports running, lists it, and cancels it', async () => {
    agent = await startAgent();
    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'lost-state-app'),
      'server.js': "require('http').createServer((q, s) => s.end('still here')).listen(process.env.PORT);",
    });
    const deployed = await kraken('deploy', repo, '--json');
    expect(deployed.code).toBe(0);
    const { id, deploymentUrl } = JSON.parse(deployed.stdout) as { id: string; deploymentUrl: string };

    // stopped (the app keeps running), its database deleted, started again
    agent.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(dataDir, `orchestrator.db${suffix}`), { force: true });
    expect(await (await fetch(deploymentUrl)).text()).toBe('still here');
    agent = await startAgent();
    expect(agent.output()).toMatch(/the orchestrator's state is gone: .*orchestrator\.db is empty although this agent led this cluster before/);

    const adopted = await eventually(
      async () => (JSON.parse((await kraken('ls', '--json')).stdout) as Listed[]).find((listed) => listed.id === id && listed.status === 'RUNNING'),
      60_000,
      'the running app listed again',
    );
    expect(adopted.srcUrl).toBe('unknown:adopted');

    const cancelled = await kraken('cancel', id);
    expect(cancelled.code).toBe(0);
    await eventually(
      async () => (JSON.parse((await kraken('ls', '--json')).stdout) as Listed[]).some((listed) => listed.id === id && listed.status === 'DESTROYED'),
      60_000,
      'the adopted app destroyed',
    );
    await expect(fetch(deploymentUrl, { signal: AbortSignal.timeout(3_000) })).rejects.toThrow();
  }, 240_000);
});
