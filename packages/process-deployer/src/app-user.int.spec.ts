// Issue 17 item 2: process-runtime apps run as a dedicated unprivileged user, so that an app cannot
// read the agent's data dir nor signal the agent. Real processes as root (CI's): the user is
// created when missing, the app runs as it, and what it reports over HTTP shows what it may not do.
// /usr/bin/node (on PATH after the Node of the test run, which may live under /root) is what the
// app user runs.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitFiles, eventually, freePort, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { get, nodeAppRepo, pythonAppRepo, repoPath, scriptAppRepo, staticSiteRepo, versionedServer, writeGreetingWheel } from '../test/fixtures.js';
import { ProcessDeployer } from './index.js';

const APP_USER = 'kraken-app';

/** Serves what it may do: read $SECRET_FILE, signal $AGENT_PID; and as whom it runs. */
const PROBE_APP = `
const fs = require('node:fs');
const http = require('node:http');
const outcome = (attempt) => { try { attempt(); return 'allowed'; } catch (error) { return error.code; } };
http.createServer((request, response) => {
  response.end(JSON.stringify({
    read: outcome(() => fs.readFileSync(process.env.SECRET_FILE)),
    signal: outcome(() => process.kill(Number(process.env.AGENT_PID), 0)),
    uid: process.getuid(),
    home: process.env.HOME,
    user: require('node:os').userInfo().username,
  }));
}).listen(Number(process.env.PORT));
`;

/** The checkout a deployment's newest version runs from (its state's), or a kept one's when nothing runs. */
async function checkoutOf(dataDir: string, id: string): Promise<string> {
  const folder = path.join(dataDir, 'deployments', id);
  try {
    return (JSON.parse(await readFile(path.join(folder, 'state.json'), 'utf8')) as { cwd: string }).cwd;
  } catch {
    const kept = JSON.parse(await readFile(path.join(folder, 'kept.json'), 'utf8')) as { versions: { state: { cwd: string } }[] };
    return kept.versions[0]?.state.cwd ?? '';
  }
}

/** Real, effective, saved and filesystem uid of a process, from /proc/<pid>/status. */
async function uidsOf(pid: number): Promise<number[]> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  const line = status.split('\n').find((entry) => entry.startsWith('Uid:')) ?? '';
  return line.slice(4).trim().split(/\s+/).map(Number);
}

function deploymentId(): string {
  return uniqueName('appuser').replace(/\./g, '-');
}

describe('ProcessDeployer runs apps as a dedicated unprivileged user', () => {
  let dir: TempDir;
  let deployer: ProcessDeployer;
  let agentData: string;
  let secretFile: string;
  const deployed: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('kraken-app-user-');
    // the deployer's folder must be reachable by the app user: the test's temp folder is 0700 as made
    await chmod(dir.path, 0o711);
    // stands for the agent's data dir: private to root, though the file itself is world-readable
    agentData = path.join(dir.path, 'agent-data');
    await mkdir(agentData, { mode: 0o700 });
    secretFile = path.join(agentData, 'api-token');
    await writeFile(secretFile, 'the-agent-token\n', { mode: 0o644 });
    deployer = await ProcessDeployer.create({ dataDir: path.join(dir.path, 'data'), nodeId: 'node-appuser', appUser: APP_USER, readyTimeout: '20s', stopTimeout: '2s' });
  });

  afterAll(async () => {
    for (const id of deployed) await deployer.stop(id).catch(() => undefined);
    await deployer.close();
    await dir.remove();
  });

  it("cannot read the agent's private data dir nor signal the agent, and runs as the app user", async () => {
    expect(deployer.isolation).toMatchObject({ runsAs: 'agent', user: APP_USER });
    const appUid = Number(execFileSync('id', ['-u', APP_USER], { encoding: 'utf8' }).trim());
    expect(appUid).toBeGreaterThan(0);
    const repo = await scriptAppRepo(repoPath(dir.path, 'probe'), PROBE_APP, 'test = "node -e \\"process.exit(process.getuid() === 0 ? 1 : 0)\\""');
    const id = deploymentId();
    deployed.push(id);

    const app = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: await freePort(), env: { SECRET_FILE: secretFile, AGENT_PID: String(process.pid) } });
    const answer = await get(app.hostPort ?? 0);
    const seen = JSON.parse(answer.body) as { read: string; signal: string; uid: number; home: string; user: string };
    expect(seen).toEqual({ read: 'EACCES', signal: 'EPERM', uid: appUid, home: path.join(dir.path, 'data', 'home'), user: APP_USER });
    expect(await uidsOf(Number(app.instanceId))).toEqual([appUid, appUid, appUid, appUid]);
    // its checkout is its own (it may write there), its state file (its env, secrets) is not
    expect((await stat(await checkoutOf(path.join(dir.path, 'data'), id))).uid).toBe(appUid);
    const state = await stat(path.join(dir.path, 'data', 'deployments', id, 'state.json'));
    expect({ uid: state.uid, mode: state.mode & 0o777 }).toEqual({ uid: 0, mode: 0o600 });
  });

  it('runs an app with limits as the app user too, inside its control group', async () => {
    const appUid = Number(execFileSync('id', ['-u', APP_USER], { encoding: 'utf8' }).trim());
    const repo = await scriptAppRepo(repoPath(dir.path, 'limited'), PROBE_APP, 'test = ""');
    const id = deploymentId();
    deployed.push(id);

    const app = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: await freePort(), limits: { memoryMb: 256 }, env: { SECRET_FILE: secretFile, AGENT_PID: String(process.pid) } });
    const pid = Number(app.instanceId);
    expect(await uidsOf(pid)).toEqual([appUid, appUid, appUid, appUid]);
    // setpriv dropped the groups root had
    expect((await readFile(`/proc/${String(pid)}/status`, 'utf8')).match(/^Groups:(.*)$/m)?.[1]?.trim()).toBe('');
    const cgroups = await readFile(`/proc/${String(pid)}/cgroup`, 'utf8');
    expect(cgroups).toContain(`/kraken/`);
    expect(cgroups).toContain(`/${id}`);
    const seen = JSON.parse((await get(app.hostPort ?? 0)).body) as { read: string; signal: string };
    expect(seen).toMatchObject({ read: 'EACCES', signal: 'EPERM' });
  });

  it("installs as the app user, and runs a redeploy and a rollback to the kept build as it", async () => {
    const appUid = Number(execFileSync('id', ['-u', APP_USER], { encoding: 'utf8' }).trim());
    const repo = await nodeAppRepo(repoPath(dir.path, 'installed'), { test: 'node -e "process.exit(process.getuid() === 0 ? 1 : 0)"' });
    const id = deploymentId();
    deployed.push(id);
    const first = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: await freePort() });
    const app = await checkoutOf(path.join(dir.path, 'data'), id);
    await expect(get(first.hostPort ?? 0)).resolves.toMatchObject({ body: 'hello from the manifest' });
    expect((await stat(path.join(app, 'node_modules', 'greet'))).uid).toBe(appUid);
    expect(await uidsOf(Number(first.instanceId))).toEqual([appUid, appUid, appUid, appUid]);

    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    const second = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: first.hostPort, replace: true });
    await expect(get(second.hostPort ?? 0)).resolves.toMatchObject({ body: 'v2' });
    expect(await uidsOf(Number(second.instanceId))).toEqual([appUid, appUid, appUid, appUid]);

    const back = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: second.hostPort, replace: true, commit: first.commit, fromKept: true });
    expect(back).toMatchObject({ fromKept: true, commit: first.commit });
    await expect(get(back.hostPort ?? 0)).resolves.toMatchObject({ body: 'hello from the manifest' });
    expect(await uidsOf(Number(back.instanceId))).toEqual([appUid, appUid, appUid, appUid]);
  });

  it("installs a python app's requirements and serves a static site as the app user", async () => {
    const appUid = Number(execFileSync('id', ['-u', APP_USER], { encoding: 'utf8' }).trim());
    const root = repoPath(dir.path, 'python-deps');
    await mkdir(root, { recursive: true });
    const wheel = writeGreetingWheel(root);
    const python = await pythonAppRepo(root, `./${wheel}\n`);
    const pythonId = deploymentId();
    deployed.push(pythonId);
    const closedIndex = `http://127.0.0.1:${String(await freePort())}/simple`;
    const served = await deployer.deploy({ deploymentId: pythonId, url: python, branch: 'main', env: { PIP_INDEX_URL: closedIndex } });
    await expect(get(served.hostPort ?? 0)).resolves.toMatchObject({ body: 'hello python via a wheel' });
    expect((await stat(path.join(await checkoutOf(path.join(dir.path, 'data'), pythonId), '..', '.deps', 'greeting'))).uid).toBe(appUid);
    expect(await uidsOf(Number(served.instanceId))).toEqual([appUid, appUid, appUid, appUid]);

    const site = await staticSiteRepo(repoPath(dir.path, 'static-site'));
    const siteId = deploymentId();
    deployed.push(siteId);
    const shown = await deployer.deploy({ deploymentId: siteId, url: site, branch: 'main' });
    await expect(get(shown.hostPort ?? 0)).resolves.toMatchObject({ body: '<!doctype html><h1>static hello</h1>\n' });
    expect(await uidsOf(Number(shown.instanceId))).toEqual([appUid, appUid, appUid, appUid]);
  });

  it('makes a failover build as the app user, and runs it as that user when the deployment moves here', async () => {
    const appUid = Number(execFileSync('id', ['-u', APP_USER], { encoding: 'utf8' }).trim());
    const repo = await nodeAppRepo(repoPath(dir.path, 'failover'));
    const id = deploymentId();
    deployed.push(id);
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();

    await deployer.prepare({ deploymentId: id, url: repo, branch: 'main', commit });
    expect((await stat(path.join(await checkoutOf(path.join(dir.path, 'data'), id), 'node_modules', 'greet'))).uid).toBe(appUid);
    const moved = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', commit, fromKept: true, hostPort: await freePort(), env: { GREETING: 'failover' } });
    expect(moved).toMatchObject({ fromKept: true });
    await expect(get(moved.hostPort ?? 0)).resolves.toMatchObject({ body: 'hello failover' });
    expect(await uidsOf(Number(moved.instanceId))).toEqual([appUid, appUid, appUid, appUid]);
  });

  it('restarts an adopted app as the user it was deployed as, after the agent restarted', async () => {
    const appUid = Number(execFileSync('id', ['-u', APP_USER], { encoding: 'utf8' }).trim());
    const repo = await scriptAppRepo(repoPath(dir.path, 'adopted'), PROBE_APP, 'test = ""');
    const id = deploymentId();
    deployed.push(id);
    const app = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main', hostPort: await freePort(), env: { SECRET_FILE: secretFile, AGENT_PID: String(process.pid) } });

    // the agent stops (its apps do not), the app dies meanwhile, and the next agent adopts it
    await deployer.close();
    process.kill(-Number(app.instanceId), 'SIGKILL');
    deployer = await ProcessDeployer.create({ dataDir: path.join(dir.path, 'data'), nodeId: 'node-appuser', appUser: APP_USER, readyTimeout: '20s', stopTimeout: '2s', restartDelay: '100ms' });
    const restarted = await eventually(async () => {
      const [listed] = (await deployer.list()).filter((entry) => entry.deploymentId === id && entry.state === 'running');
      return listed !== undefined && listed.instanceId !== app.instanceId ? listed : undefined;
    }, 20_000, 'the adopted app restarted');
    expect(await uidsOf(Number(restarted.instanceId))).toEqual([appUid, appUid, appUid, appUid]);
    await eventually(() => get(app.hostPort ?? 0).then(() => true, () => undefined), 20_000, 'the restarted app answering');
  });
});

describe('ProcessDeployer falls back to its own user where the app user cannot reach its folder', () => {
  it('says so in what it enforces and keeps its folder private', async () => {
    await using dir = await tempDir('kraken-app-user-private-');
    // the temp folder stays 0700: the app user could not enter the deployer's folder under it
    const dataDir = path.join(dir.path, 'data');
    await using deployer = await ProcessDeployer.create({ dataDir, nodeId: 'node-appuser-private', appUser: APP_USER });
    expect(deployer.isolation).not.toHaveProperty('user');
    expect(deployer.isolation.userWhyNot).toMatch(/^the user kraken-app cannot enter /);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
  });
});
