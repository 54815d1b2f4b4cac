// Issue 6: on a machine with no RabbitMQ and no Docker, the README's first command brings up a
// single-node cluster and deploys the example app through the process runtime. Both services run
// on this CI machine, so the test hides them: the script runs in a network namespace of its own
// (only loopback: no RabbitMQ) with a fresh tmpfs over /run (no Docker socket) and over
// /usr/lib/rabbitmq (RabbitMQ not installed, so the agent cannot run a node of its own).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { freePort, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { WatchedProcess } from '@kraken/testing';
import { runKraken, spawnLongRunning } from '../test/cli-process.js';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const namespace = `kraken-fresh-${process.pid}`;
// strings only: Nx sets FORCE_COLOR, which makes console.log colour numbers
const inNamespace = (...command: string[]) => execFileSync('ip', ['netns', 'exec', namespace, ...command], { encoding: 'utf8' });

describe('README run command on a machine without RabbitMQ and Docker', () => {
  let dir: TempDir;
  let script: WatchedProcess | undefined;
  let dataDir: string;
  let api: string;

  beforeAll(async () => {
    dir = await tempDir('kraken-fresh-');
    dataDir = path.join(dir.path, 'data');
    execFileSync('ip', ['netns', 'add', namespace]);
    inNamespace('ip', 'link', 'set', 'lo', 'up');
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    script = spawnLongRunning(
      'ip',
      ['netns', 'exec', namespace, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c',
        `mount -t tmpfs kraken-empty-run /run && mount -t tmpfs kraken-no-rabbitmq /usr/lib/rabbitmq && exec bash ${repoRoot}/tools/run-kraken.sh --no-install`],
      { HOME: dir.path, KRAKEN_DATA_DIR: dataDir, KRAKEN_API_PORT: String(port), KRAKEN_LOG_LEVEL: 'debug' },
    );
    await script.waitFor(/Kraken runs at/, 240_000);
  }, 300_000);

  afterAll(async () => {
    script?.kill('SIGTERM');
    await script?.exited;
    // apps of the process runtime outlive the agent on purpose; here they must go with the test
    try {
      const pids = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // nothing left
    }
    execFileSync('ip', ['netns', 'del', namespace]);
    await dir.remove();
  }, 60_000);

  it('chose the embedded broker and the process runtime, and printed where to look', () => {
    const output = script?.output() ?? '';
    expect(output).toMatch(/using the in-process broker/);
    expect(output).toMatch(/apps run as supervised processes/);
    expect(output).toMatch(/Kraken is running\. UI and API: http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('deployed the example app, which answers HTTP 200', async () => {
    expect(script?.output()).toMatch(/running at http:\/\/\S+ after/);
    const listed = await runKraken(['ls', '--json', '--api', api, '--data-dir', dataDir], { prefix: ['ip', 'netns', 'exec', namespace] });
    expect(listed.code).toBe(0);
    const deployments = JSON.parse(listed.stdout) as { status: string; deploymentUrl: string; srcUrl: string }[];
    expect(deployments).toEqual([expect.objectContaining({ status: 'RUNNING', srcUrl: path.join(dataDir, 'examples', 'hello-node') })]);
    const answer = inNamespace(process.execPath, '-e', `fetch(${JSON.stringify(deployments[0]?.deploymentUrl)}).then(async (r) => console.log(String(r.status) + ' ' + (await r.text())))`);
    expect(answer).toMatch(/^200 Hello from Kraken!/);
  }, 60_000);

  it('serves the UI entry point at /', () => {
    const answer = inNamespace(process.execPath, '-e', `fetch(${JSON.stringify(`${api}/`)}).then((r) => console.log(String(r.status) + ' ' + r.url))`);
    expect(answer).toMatch(/^200 http:\/\/127\.0\.0\.1:\d+\/index\.html/);
  });
});
