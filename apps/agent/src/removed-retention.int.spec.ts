// Issue 20 item 3: a removed deployment's log is kept for a configurable time. A real agent
// (process runtime, its own vhost) started with --removed-retention deletes a removed deployment
// and its log once that time has passed; the default (a week) is cli.int.spec.ts's agent.
import path from 'node:path';
import { eventually, freePort, gitFixtureRepo, isolatedVhost, manifestToml, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { runKraken, startLoneAgent } from '../test/cli-process.js';

describe('kraken agent --removed-retention', () => {
  let dir: TempDir;
  let vhost: IsolatedVhost;
  let agent: WatchedProcess;
  let api: string;
  let dataDir: string;
  const kraken = (...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir]);

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-retention');
    dir = await tempDir('kraken-retention-');
    dataDir = path.join(dir.path, 'data');
    ({ process: agent, api } = await startLoneAgent({ dataDir, brokerUrl: vhost.url, port: await freePort(), args: ['--removed-retention', '2s'] }));
  }, 120_000);

  afterAll(async () => {
    agent.kill('SIGTERM');
    await agent.exited;
    await dir.remove();
    await vhost.remove();
  }, 60_000);

  it('deletes a removed deployment and its log once the configured time has passed', async () => {
    // a manifest naming no language Kraken has: Errored before any build
    const repo = await gitFixtureRepo(path.join(dir.path, 'broken'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "cobol"\nrun = "./run"', 'retention-broken'),
    });
    const created = await kraken('deploy', repo, '--no-follow', '--json');
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const status = async () => (JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; status: string }[]).find((d) => d.id === id)?.status;
    await eventually(async () => ((await status()) === 'ERRORED' ? true : undefined), 60_000, `${id} Errored`);

    const removed = await kraken('rm', id);
    expect(removed.code).toBe(0);
    // past the retention the loop deletes it: its log is gone, and the id is unknown (exit 4)
    await agent.waitFor(new RegExp(`deleted removed deployments past their retention.*${id}`), 30_000);
    const logs = await kraken('logs', id);
    expect({ code: logs.code, stderr: logs.stderr }).toEqual({ code: 4, stderr: expect.stringContaining(id) as unknown });
  }, 120_000);
});
