import { spawn } from 'node:child_process';
import { access, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from '@kraken/common';
import { commitFiles, eventually, freePort, gitFixtureRepo, manifestToml, uniqueName } from '@kraken/testing';
import type { DeployProgress, DeployResult } from '@kraken/runtime';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { get, groupFile, processAlive, repoPath, versionedServer } from '../test/fixtures.js';

// a test step, so that a redeploy that skipped it (a rollback must) shows in its steps
const APP_MANIFEST = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'no-downtime');
const FAILING_TEST = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "exit 3"', 'no-downtime');
/** What the ingress does at 50 requests/s: one request every 20 ms, each to the port the deployment reports when it is sent. */
const REQUEST_EVERY_MS = 20;

interface Answer {
  /** The port reported when the request was sent. */
  port: number;
  /** The switch had been reported when it was sent. */
  afterSwitch: boolean;
  body?: string;
  error?: string;
}

/**
 * Sends a request every 20 ms to the deployment's reported port, without waiting for the one
 * before, as the ingress would for a steady client, and records each answer.
 */
function steadyClient(firstPort: number): { report(port: number): void; stop(): Promise<Answer[]> } {
  let port = firstPort;
  let switched = false;
  // read in the loop, set by stop(): an object, since the compiler does not follow the callback
  const client = { running: true };
  const pending: Promise<Answer>[] = [];
  const loop = (async () => {
    while (client.running) {
      const sent = { port, afterSwitch: switched };
      pending.push(
        get(sent.port).then(
          (answer): Answer => (answer.status === 200 ? { ...sent, body: answer.body } : { ...sent, error: `status ${String(answer.status)}: ${answer.body}` }),
          (error: unknown): Answer => ({ ...sent, error: (error as Error).message }),
        ),
      );
      await sleep(REQUEST_EVERY_MS);
    }
  })();
  return {
    report(next) {
      port = next;
      switched = true;
    },
    async stop() {
      client.running = false;
      await loop;
      return await Promise.all(pending);
    },
  };
}

/** A process leading a group of its own that outlives this test's deployer, as an app version would; its pid and start time. */
async function strayVersion(): Promise<{ pid: number; startTime: number }> {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid ?? 0;
  const stat = await eventually(() => readProcStat(pid), 5_000, 'the stray process starting');
  return { pid, startTime: stat.startTime };
}

function deploymentId(): string {
  return uniqueName('zd').replace(/\./g, '-');
}

function startedSteps(events: DeployProgress[]): string[] {
  return events.filter((event) => event.kind === 'start').map((event) => event.step);
}

async function buildFolders(dataDir: string, id: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, 'deployments', id, 'versions'))).sort();
}

describe('ProcessDeployer redeploys with no downtime', () => {
  const setup = deployerPerTest('kraken-zero-downtime-', { nodeId: 'node-zd', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms', drainTime: '1s' });

  async function deployV1(): Promise<{ repo: string; id: string; v1: DeployResult; hostPort: number }> {
    const { dir, deployer } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('v1') });
    const id = deploymentId();
    const v1 = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: await freePort() });
    if (v1.hostPort === undefined) throw new Error('v1 reported no port');
    await expect(get(v1.hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    return { repo, id, v1, hostPort: v1.hostPort };
  }

  it('starts a new commit beside the old one, switches the reported port to it, and stops the old one after its drain, with no request failing', async () => {
    const { dataDir, deployer } = setup;
    const { repo, id, v1, hostPort } = await deployV1();
    const v2Commit = await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    const client = steadyClient(hostPort);

    // as the orchestrator does, the redeploy asks for the port the deployment reported
    const v2 = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, replace: true });
    if (v2.hostPort === undefined) throw new Error('v2 reported no port');
    client.report(v2.hostPort);
    expect(v2).toMatchObject({ deploymentId: id, commit: v2Commit, reused: false, state: 'running' });
    expect(v2.hostPort).not.toBe(hostPort);
    expect(v2.instanceId).not.toBe(v1.instanceId);
    await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, instanceId: v2.instanceId, commit: v2Commit, hostPort: v2.hostPort })]);
    // the old version drains, then stops
    await eventually(() => !processAlive(Number(v1.instanceId)), 15_000, 'the old version stopping after its drain');
    await expect(get(hostPort)).rejects.toThrow(/ECONNREFUSED/);
    const answers = await client.stop();

    expect(answers.filter((answer) => answer.error !== undefined)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.body))).toEqual(new Set(['v1', 'v2']));
    const afterSwitch = answers.filter((answer) => answer.afterSwitch);
    expect(afterSwitch.length).toBeGreaterThan(0);
    expect(afterSwitch.every((answer) => answer.body === 'v2')).toBe(true);
    // the old version served while the new one was cloned, built, tested and started
    expect(answers.filter((answer) => !answer.afterSwitch && answer.body === 'v1').length).toBeGreaterThan(0);

    // both builds are kept, each in its own folder; the state names the new one's
    const state = JSON.parse(await readFile(path.join(dataDir, 'deployments', id, 'state.json'), 'utf8')) as { pid: number; buildDir: string; cwd: string };
    expect(state.pid).toBe(Number(v2.instanceId));
    expect(state.cwd).toBe(path.join(state.buildDir, 'app'));
    expect(await buildFolders(dataDir, id)).toHaveLength(2);
    expect(await deployer.keptCommits(id)).toEqual([v2Commit, v1.commit]);
  });

  it('leaves the old version serving, untouched, when the new one fails its test, and removes the failed build', async () => {
    const { dataDir, deployer } = setup;
    const { repo, id, v1, hostPort } = await deployV1();
    const buildsBefore = await buildFolders(dataDir, id);
    await commitFiles(repo, { 'shipwreck.toml': FAILING_TEST, 'server.js': versionedServer('v2') }, 'v2 fails its test');
    const client = steadyClient(hostPort);

    await expect(deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort, replace: true })).rejects.toMatchObject({
      deploymentId: id,
      message: expect.stringMatching(/^the test command \(exit 3\) failed with exit code 3/) as unknown,
      details: expect.objectContaining({ step: 'test' }) as unknown,
    });
    const answers = await client.stop();

    expect(answers.filter((answer) => answer.error !== undefined)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.body))).toEqual(new Set(['v1']));
    // the same process, never stopped
    expect(processAlive(Number(v1.instanceId))).toBe(true);
    await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ instanceId: v1.instanceId, commit: v1.commit, hostPort })]);
    expect(await buildFolders(dataDir, id)).toEqual(buildsBefore);
    expect(await deployer.keptCommits(id)).toEqual([v1.commit]);
    await expect(readdir(path.join(dataDir, 'deployments', id))).resolves.not.toContain('candidate.json');
  });

  it('rolls back to a kept build beside the running version: no clone, build or test, and no request failing', async () => {
    const { deployer } = setup;
    const { repo, id, v1 } = await deployV1();
    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    const v2 = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', replace: true });
    if (v2.hostPort === undefined) throw new Error('v2 reported no port');
    const client = steadyClient(v2.hostPort);

    const events: DeployProgress[] = [];
    const back = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: v2.hostPort, replace: true, commit: v1.commit.slice(0, 7), fromKept: true, onProgress: (event) => events.push(event) });
    if (back.hostPort === undefined) throw new Error('the rollback reported no port');
    client.report(back.hostPort);
    expect(back).toMatchObject({ commit: v1.commit, fromKept: true, state: 'running' });
    expect(startedSteps(events)).toEqual(['manifest', 'run', 'ready']);
    await eventually(() => !processAlive(Number(v2.instanceId)), 15_000, 'v2 stopping after its drain');
    const answers = await client.stop();

    expect(answers.filter((answer) => answer.error !== undefined)).toEqual([]);
    expect(answers.filter((answer) => answer.afterSwitch).every((answer) => answer.body === 'v1')).toBe(true);
    expect(answers.filter((answer) => !answer.afterSwitch).every((answer) => answer.body === 'v2')).toBe(true);
    expect(await deployer.keptCommits(id)).toEqual([v1.commit, v2.commit]);
  });

  it('runs the version started beside the old one in a control group of its own, and removes the old one\'s once it drained', async () => {
    const { dir, deployer } = setup;
    // this suite runs as root on a machine with control groups (CI's), as the limits spec does
    expect(deployer.isolation.limits).toBe(true);
    const repo = await gitFixtureRepo(repoPath(dir.path, 'limited'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('v1') });
    const id = deploymentId();
    const base = { deploymentId: id, url: repo, branch: 'main', limits: { memoryMb: 128 } };
    const v1 = await deployer.deploy({ ...base, hostPort: await freePort() });
    const memoryLimit = (pid: string): Promise<string> => groupFile(Number(pid), 'memory.limit_in_bytes').catch(() => groupFile(Number(pid), 'memory.max'));
    const v1Group = path.dirname(await memoryLimit(v1.instanceId));
    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');

    const v2 = await deployer.deploy({ ...base, hostPort: v1.hostPort ?? 0, replace: true });
    const v2Limit = await memoryLimit(v2.instanceId);
    // both run now, each held to the limit on its own
    expect(processAlive(Number(v1.instanceId))).toBe(true);
    expect(path.dirname(v2Limit)).not.toBe(v1Group);
    expect(await readFile(v2Limit, 'utf8')).toBe(`${String(128 * 1024 * 1024)}\n`);
    await eventually(() => !processAlive(Number(v1.instanceId)), 15_000, 'the old version stopping after its drain');
    await eventually(() => access(v1Group).then(() => false, () => true), 5_000, "the old version's group removed");

    await deployer.stop(id);
    await expect(access(path.dirname(v2Limit))).rejects.toThrow(/ENOENT/);
  });

  it('on an agent start after a redeploy was cut short, ends the version that had not taken over and the one still draining, removes builds nothing names, and serves on with the version in the state file', async () => {
    const { dataDir } = setup;
    const { id, v1, hostPort } = await deployV1();
    await setup.deployer.close();
    const folder = path.join(dataDir, 'deployments', id);
    const state = JSON.parse(await readFile(path.join(folder, 'state.json'), 'utf8')) as Record<string, unknown>;
    const candidate = await strayVersion();
    const retiring = await strayVersion();
    await writeFile(path.join(folder, 'candidate.json'), JSON.stringify({ ...state, ...candidate }), { mode: 0o600 });
    await writeFile(path.join(folder, `retiring-${String(retiring.pid)}.json`), JSON.stringify({ ...state, ...retiring }), { mode: 0o600 });
    // a build cut short, and one finished that nothing names any more
    await mkdir(path.join(folder, 'versions', 'cut-short', 'app'), { recursive: true });
    await writeFile(path.join(folder, 'versions', 'cut-short', '.building'), '');
    await mkdir(path.join(folder, 'versions', 'forgotten', 'app'), { recursive: true });
    const buildsBefore = await buildFolders(dataDir, id);

    const deployer = await setup.restart();

    expect(processAlive(candidate.pid)).toBe(false);
    expect(processAlive(retiring.pid)).toBe(false);
    expect(processAlive(Number(v1.instanceId))).toBe(true);
    await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ instanceId: v1.instanceId, hostPort })]);
    await expect(get(hostPort)).resolves.toMatchObject({ status: 200, body: 'v1' });
    const names = await readdir(folder);
    expect(names.filter((name) => name === 'candidate.json' || name.startsWith('retiring-'))).toEqual([]);
    expect(await buildFolders(dataDir, id)).toEqual(buildsBefore.filter((name) => name !== 'cut-short' && name !== 'forgotten'));
    expect(await buildFolders(dataDir, id)).toHaveLength(1);
  });
});
