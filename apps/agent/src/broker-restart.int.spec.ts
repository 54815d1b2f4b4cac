// Issue 22: RabbitMQ dies (kill -9) under a running agent (leader with its worker and an app that
// logs all the time) and comes back. The cluster works again on its own: the broker shows down, then
// up; a new deploy succeeds; no status and no log line of the running app is lost across the outage.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, freePort, gitFixtureRepo, manifestToml, startRabbitNode, tempDir } from '@kraken/testing';
import type { RabbitNode, TempDir, WatchedProcess } from '@kraken/testing';
import { ApiClient } from './client/api-client.js';
import { CLI, runKraken, spawnLongRunning } from '../test/cli-process.js';

// a numbered line every 20 ms: any line lost on the way shows as a missing number
const tickingServer = `let n = 0;
setInterval(() => console.log('tick ' + n++), 20);
require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT || 3000);`;

interface Exported {
  deployments: { id: string; status: string; statusHistory: { status: string }[]; logCounters: { dropped: number; senderDropped: number; batchGaps: number } }[];
}

describe('a RabbitMQ restart under a running agent', () => {
  let dir: TempDir;
  let rabbit: RabbitNode;
  let agent: WatchedProcess | undefined;
  let api: string;
  let dataDir: string;
  const kraken = (...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir]);
  const client = () => new ApiClient({ url: api, token: readToken() });

  beforeAll(async () => {
    dir = await tempDir('kraken-broker-restart-');
    dataDir = path.join(dir.path, 'data');
    rabbit = await startRabbitNode();
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    agent = spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', String(port), '--api-host', '127.0.0.1',
      '--broker-url', rabbit.url, '--runtime', 'process', '--no-mdns', '--public-host', '127.0.0.1', '--log-level', 'debug',
    ]);
    await agent.waitFor(/Deploy an app: kraken deploy/, 60_000);
  }, 180_000);

  afterAll(async () => {
    if (agent !== undefined) {
      // stop the apps first: the process runtime leaves them running across an agent stop
      for (const { id } of JSON.parse((await kraken('ls', '--json')).stdout || '[]') as { id: string }[]) await kraken('cancel', id);
      agent.kill('SIGTERM');
      await agent.exited;
    }
    await rabbit[Symbol.asyncDispose]();
    await dir[Symbol.asyncDispose]();
  }, 120_000);

  it('comes back on its own within seconds, losing no deploy, status or log line', async () => {
    const repo = await gitFixtureRepo(path.join(dir.path, 'ticker'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'ticker'),
      'server.js': tickingServer,
    });
    const first = await deploy(repo);
    await eventually(async () => (await ticks(first)).length >= 50, 30_000, 'the app logging');
    // queues declared moments ago must be on disk before the crash (see RabbitNode.flush)
    await rabbit.flush();

    const ticksBefore = (await ticks(first)).length;
    await rabbit.kill();
    const killedAt = Date.now();
    // while RabbitMQ is gone the API still answers and says so
    const down = await eventually(async () => brokerService().then((s) => (s.status === 'down' ? s : undefined)), 30_000, 'the broker shown down');
    expect(down.detail).toMatch(/^RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+: disconnected for \d+ s, reconnecting/);
    await sleep(2_000); // the app keeps logging into the outage
    await rabbit.restart();
    const readyAt = Date.now();
    await eventually(async () => (await brokerService()).status === 'up', 60_000, 'the broker shown up again');
    const upAt = Date.now();

    const second = await deploy(repo);
    const deployedAt = Date.now();
    process.stderr.write(
      `[broker-restart] outage ${readyAt - killedAt} ms (RabbitMQ down and booting); broker up ${upAt - readyAt} ms after RabbitMQ was ready; a new deploy Running ${deployedAt - upAt} ms later\n`,
    );

    // the ticks logged before, during and after the outage arrive, every one, in order
    await eventually(async () => (await ticks(first)).length >= ticksBefore + 300, 60_000, 'the app log carrying on after the outage');
    const numbers = await ticks(first);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i));

    const { deployments } = (await (await fetch(`${api}/export`, { headers: { authorization: `Bearer ${readToken()}` } })).json()) as Exported;
    for (const deployment of deployments) {
      expect(deployment.status).toBe('Running');
      expect(deployment.statusHistory.map((entry) => entry.status)).not.toContain('Errored');
      expect(deployment.statusHistory.at(-1)?.status).toBe('Running');
    }
    expect(deployments.find((d) => d.id === first)?.logCounters).toEqual({ dropped: 0, senderDropped: 0, batchGaps: 0 });
    expect(deployments.map((d) => d.id).sort()).toEqual([first, second].sort());
    const nodes = JSON.parse((await kraken('nodes', '--json')).stdout) as { state: string }[];
    expect(nodes).toEqual([expect.objectContaining({ state: 'ALIVE' })]);
  }, 600_000);

  async function deploy(repo: string): Promise<string> {
    const result = await kraken('deploy', repo, '--json');
    expect(result.code).toBe(0);
    const { id, status } = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { id: string; status: string };
    expect(status).toBe('RUNNING');
    return id;
  }

  /** The tick numbers in the stored log, in stored order. */
  async function ticks(deploymentId: string): Promise<number[]> {
    const response = await fetch(`${api}/log/${deploymentId}`, { headers: { authorization: `Bearer ${readToken()}` } });
    const text = await response.text();
    return [...text.matchAll(/\[stdout\] tick (\d+)$/gm)].map((match) => Number(match[1]));
  }

  async function brokerService(): Promise<{ status: string; detail: string }> {
    const { getPlatformServices } = await client().graphql<{ getPlatformServices: { name: string; status: string; detail: string }[] }>(
      'query { getPlatformServices { name status detail } }',
    );
    const broker = getPlatformServices.find((service) => service.name === 'broker');
    if (broker === undefined) throw new Error('getPlatformServices lists no broker');
    return broker;
  }

  function readToken(): string {
    return (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
  }
});
