// Issue 21: an agent that can never lead (priority 2) loads no control plane (Apollo, GraphQL,
// type-graphql, SQLite), and a machine without a Docker engine loads no dockerode. Real processes:
// a leading `kraken agent` on the real RabbitMQ, and a worker that joins it, each started with a
// load hook (test/record-loaded-modules.mjs) that lists every module the process loaded. And an
// agent runs with a bounded young generation (young-generation.ts), which a log flood would grow.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, isolatedVhost, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { CLI, spawnLongRunning } from '../test/cli-process.js';
import { loadedPackages } from '../test/loaded-packages.js';
import { AGENT_MAX_SEMI_SPACE_MB } from './young-generation.js';

const RECORD_HOOK = path.resolve(__dirname, '..', 'test', 'record-loaded-modules.mjs');
/** What the control plane brings: the API stack and the store. */
const CONTROL_PLANE = ['@apollo/server', 'graphql', 'type-graphql', 'better-sqlite3'];

/** `kraken agent ...args` with the load hook; the list of modules goes to `modulesFile` when it exits. */
function recordedAgent(modulesFile: string, args: string[]): WatchedProcess {
  return spawnLongRunning(process.execPath, ['--import', RECORD_HOOK, CLI, 'agent', ...args], { KRAKEN_TEST_LOADED_MODULES: modulesFile });
}

/** Stops an agent gracefully and reads which packages it had loaded. */
async function packagesAfterStop(agent: WatchedProcess, modulesFile: string): Promise<Set<string>> {
  agent.kill('SIGTERM');
  expect(await agent.exited).toBe(0);
  return loadedPackages(modulesFile);
}

describe('what an agent loads for its role', () => {
  let dir: TempDir;
  let vhost: IsolatedVhost | undefined;
  let leader: WatchedProcess | undefined;
  let api: string;
  let joinToken: string;

  beforeAll(async () => {
    await requireRabbit();
    // its own vhost: in the shared one, another Kraken on this machine would lead and answer instead
    vhost = await isolatedVhost('kraken-footprint');
    dir = await tempDir('kraken-footprint-');
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    leader = recordedAgent(path.join(dir.path, 'leader-modules.txt'), [
      '--data-dir', path.join(dir.path, 'leader'), '--api-port', String(port), '--api-host', '127.0.0.1',
      // joins are accepted only when the leader has a broker the joining node can reach
      '--broker-url', vhost.url, '--advertise-broker-url', vhost.url, '--runtime', 'process', '--no-mdns', '--public-host', '127.0.0.1',
    ]);
    const line = await leader.waitFor(/Add a machine: kraken agent --join \S+ --join-token \S+/, 90_000);
    joinToken = /--join-token (\S+)/.exec(line)?.[1] ?? '';
  }, 120_000);

  afterAll(async () => {
    leader?.kill('SIGTERM');
    await leader?.exited;
    await dir.remove();
    await vhost?.remove();
  }, 60_000);

  it('a priority-2 worker on a machine without a Docker engine runs with a bounded young generation and loads neither the control plane nor dockerode', async () => {
    const modulesFile = path.join(dir.path, 'worker-modules.txt');
    const worker = recordedAgent(modulesFile, [
      '--join', api, '--join-token', joinToken, '--priority', '2', '--data-dir', path.join(dir.path, 'worker'),
      '--api-port', '0', '--no-mdns', '--runtime', 'auto', '--docker-socket', path.join(dir.path, 'no-docker.sock'),
    ]);
    await worker.waitFor(/agent running .*"role":"join".*"runtime":"process"/, 90_000);
    // started as `node --import <hook> cli.js agent ...`, it relaunched itself in place with the
    // young-generation bound (young-generation.ts), its hook still loaded (the list below)
    const commandLine = (await readFile(`/proc/${String(worker.child.pid)}/cmdline`, 'utf8')).split('\0');
    expect(commandLine.slice(1, 4)).toEqual([`--max-semi-space-size=${String(AGENT_MAX_SEMI_SPACE_MB)}`, '--import', RECORD_HOOK]);
    const loaded = await packagesAfterStop(worker, modulesFile);
    // it did run as a worker on the broker: the hook saw what that takes
    expect(loaded).toContain('amqplib');
    expect(CONTROL_PLANE.filter((name) => loaded.has(name))).toEqual([]);
    expect(loaded).not.toContain('dockerode');
  }, 120_000);

  it('the leader it joined loads the control plane, so the check above sees it where it is loaded', async () => {
    const modulesFile = path.join(dir.path, 'leader-modules.txt');
    const loaded = await packagesAfterStop(leader as WatchedProcess, modulesFile);
    leader = undefined;
    expect(CONTROL_PLANE.filter((name) => loaded.has(name))).toEqual(CONTROL_PLANE);
  }, 60_000);
});
