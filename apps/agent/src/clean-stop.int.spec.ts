// Issue 16: one SIGTERM stops a leading agent in order (worker, test processes, API, orchestrator,
// store, broker) within the stop bound and exits 0. Its orchestrator.db alone (the WAL checkpointed
// into it) then holds the whole state, and no test process of a deploy in flight outlives it. A
// second signal forces the exit.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StopWaiting, eventually, freePort, gitFixtureRepo, isolatedVhost, manifestToml, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { ApiClient } from './client/api-client.js';
import { DEFAULT_APP_USER } from './config/agent-config.js';
import { DEFAULT_APPS_ROOT, processRuntimeDir } from './run/process-dir.js';
import { STOP_BOUND_MS } from './run/stop-bound.js';
import { CLI, runKraken, spawnLongRunning } from '../test/cli-process.js';

// no port: another Kraken on this machine hands out the same host ports, and an app that lost the
// race for one would end Errored for reasons this test is not about
const app = 'setInterval(() => undefined, 60_000);';

describe('kraken agent stopped with SIGTERM', () => {
  let dir: TempDir;
  let dataDir: string;
  let api: string;
  // each test's own vhost: in the shared one, another Kraken on this machine would lead and take the work
  const vhosts: IsolatedVhost[] = [];
  let agent: WatchedProcess | undefined;
  /** Where each agent's apps run: outside its data dir when they run as the app user (as root). */
  const appsDirs: string[] = [];
  const kraken = (...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir]);
  const client = () => new ApiClient({ url: api, token: readToken() });

  /** A leading agent on a data dir and vhost of its own, with the process runtime. */
  async function startAgent(name: string): Promise<WatchedProcess> {
    const vhost = await isolatedVhost(`kraken-${name}`);
    vhosts.push(vhost);
    dataDir = path.join(dir.path, name);
    // where the agent keeps its apps (jest-config/integration-env.cjs gives each test file a folder)
    appsDirs.push(processRuntimeDir({ dataDir, appUser: DEFAULT_APP_USER, isRoot: process.getuid?.() === 0, appsRoot: process.env.KRAKEN_APPS_DIR ?? DEFAULT_APPS_ROOT, olderApps: false }).dir);
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const started = spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', String(port), '--api-host', '127.0.0.1',
      '--broker-url', vhost.url, '--runtime', 'process', '--no-mdns', '--public-host', '127.0.0.1', '--log-level', 'debug',
    ]);
    agent = started;
    await started.waitFor(/Deploy an app: kraken deploy/, 60_000);
    return started;
  }

  beforeAll(async () => {
    await requireRabbit();
    dir = await tempDir('kraken-clean-stop-');
  });

  afterEach(async () => {
    agent?.kill('SIGKILL');
    await agent?.exited;
    agent = undefined;
  });

  afterAll(async () => {
    // the process runtime leaves apps running across an agent stop (the next start adopts them)
    for (const pid of [dir.path, ...appsDirs].flatMap(processesUnder)) killQuietly(pid);
    await dir.remove();
    for (const appsDir of appsDirs) fs.rmSync(appsDir, { recursive: true, force: true });
    for (const vhost of vhosts) await vhost.remove();
  }, 60_000);

  it('once: exits 0 within the bound, leaves the whole state in orchestrator.db and no test process behind', async () => {
    const stopping = await startAgent('clean-stop');
    try {
      const running = await deploy(path.join(dir.path, 'served'), '');
      // a test step that would run for an hour: the deploy is still in flight when the signal comes
      const inFlight = await deploy(path.join(dir.path, 'testing'), 'node slow-test.js');
      await reaches(running, 'RUNNING');
      await reaches(inFlight, 'TESTING_DEPLOYMENT');
      await eventually(() => testProcesses().length > 0 || undefined, 30_000, 'the test process started');

      const signalledAt = Date.now();
      stopping.kill('SIGTERM');
      const code = await stopping.exited;
      const tookMs = Date.now() - signalledAt;

      expect({ code, again: /again, exiting now/.test(stopping.output()) }).toEqual({ code: 0, again: false });
      expect(tookMs).toBeLessThan(STOP_BOUND_MS);
      expect(stopping.output()).toMatch(/handing back deploys in flight/);
      expect(stopping.output()).toMatch(/agent stopped/);
      expect(testProcesses()).toEqual([]);

      // a backup of orchestrator.db without its -wal file: everything committed is in it
      const copy = path.join(dir.path, 'backup.db');
      fs.copyFileSync(path.join(dataDir, 'orchestrator.db'), copy);
      const db = new Database(copy, { readonly: true });
      try {
        const rows = db.prepare('SELECT id, status FROM deployments ORDER BY created_at').all() as { id: string; status: string }[];
        expect(rows.map((row) => row.id)).toEqual([running, inFlight]);
        expect(rows[0]?.status).toMatch(/running/i);
      } finally {
        db.close();
      }
    } catch (error) {
      // what the agent said is the first thing to read when this fails
      process.stderr.write(`agent output (last 16 KB):\n${stopping.output().slice(-16_384)}\n`);
      throw error;
    }
  }, 300_000);

  it('twice: the second signal forces the exit (130) while the first stop still waits, killing the test process', async () => {
    const stopping = await startAgent('forced-stop');
    // a test step that ignores SIGTERM: the stop waits for its SIGKILL, 2 s later
    const inFlight = await deploy(path.join(dir.path, 'stubborn'), 'node slow-test.js stubborn');
    await reaches(inFlight, 'TESTING_DEPLOYMENT');
    await eventually(() => testProcesses().length > 0 || undefined, 30_000, 'the test process started');
    stopping.kill('SIGTERM');
    await stopping.waitFor(/handing back deploys in flight/, 10_000);
    stopping.kill('SIGTERM');
    expect(await stopping.exited).toBe(130);
    expect(stopping.output()).toMatch(/kraken: SIGTERM again, exiting now/);
    // forced, but still no orphan: the test process is killed as the agent exits
    await eventually(() => testProcesses().length === 0 || undefined, 5_000, 'the test process gone');
  }, 300_000);

  async function deploy(repoDir: string, test: string): Promise<string> {
    const repo = await gitFixtureRepo(repoDir, {
      'shipwreck.toml': manifestToml(`lang = "node"\nrun = "node app.js"\ntest = "${test}"`, path.basename(repoDir)),
      'app.js': app,
      'slow-test.js': "if (process.argv[2] === 'stubborn') process.on('SIGTERM', () => undefined);\nsetTimeout(() => undefined, 3_600_000);",
    });
    const created = await kraken('deploy', repo, '--no-follow', '--json');
    expect(created.code).toBe(0);
    return (JSON.parse(created.stdout) as { id: string }).id;
  }

  /** Waits for `id` to reach `wanted`; an Errored deployment ends the wait with its reason. */
  async function reaches(id: string, wanted: string): Promise<void> {
    await eventually(
      async () => {
        const { getDeployment } = await client().graphql<{ getDeployment: { status: string; statusMessage: string | null } }>(
          'query($id: String!) { getDeployment(deploymentId: $id) { status statusMessage } }',
          { id },
        );
        if (getDeployment.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED: ${getDeployment.statusMessage ?? '(no message)'}`);
        return getDeployment.status === wanted || undefined;
      },
      120_000,
      `${id} ${wanted}`,
    );
  }

  /** This test's test-step processes: `node slow-test.js` run from a folder of its agents' apps. */
  function testProcesses(): number[] {
    return [dir.path, ...appsDirs].flatMap(processesUnder).filter((pid) => readProc(pid, 'cmdline').includes('slow-test.js'));
  }

  function readToken(): string {
    return (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
  }
});

/** Processes whose working directory is under `root`. */
function processesUnder(root: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cwd: string;
    try {
      cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (cwd === root || cwd.startsWith(`${root}/`)) pids.push(Number(entry));
  }
  return pids;
}

function readProc(pid: number, file: string): string {
  try {
    return fs.readFileSync(`/proc/${String(pid)}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
