import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { eventually, gitFixtureRepo, manifestToml, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { stopLeftovers } from '../test/deployer-per-test.js';
import { NODE_SERVER, get, nodeAppRepo, processAlive, repoPath, scriptAppRepo } from '../test/fixtures.js';
import { ProcessDeployer } from './index.js';

function deploymentId(): string {
  return uniqueName('sup').replace(/\./g, '-');
}

async function pidOf(port: number): Promise<number | undefined> {
  try {
    const answer = await get(port, '/pid');
    return answer.status === 200 ? Number(answer.body) : undefined;
  } catch {
    return undefined;
  }
}

describe('ProcessDeployer supervises its processes', () => {
  let dir: TempDir;
  let dataDir: string;
  const fast = { nodeId: 'node-sup', restartDelay: '200ms', maxRestartDelay: '2s', pollInterval: '200ms', stopTimeout: '3s' };

  beforeEach(async () => {
    dir = await tempDir('kraken-supervise-');
    dataDir = path.join(dir.path, 'data');
  });

  afterEach(async () => {
    try {
      await stopLeftovers(fast, dataDir);
    } finally {
      await dir.remove();
    }
  });

  it('restarts an app that crashes, and notes the restart in its log', async () => {
    await using deployer = await ProcessDeployer.create({ ...fast, dataDir });
    const repo = await nodeAppRepo(repoPath(dir.path, 'crashy'));
    const id = deploymentId();
    const { hostPort, instanceId } = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    const port = hostPort!;
    const firstPid = await pidOf(port);
    expect(firstPid).toBeDefined();

    await get(port, '/crash');
    const secondPid = await eventually(async () => {
      const pid = await pidOf(port);
      return pid !== undefined && pid !== firstPid ? pid : undefined;
    }, 20_000, 'the restarted app');
    expect(processAlive(firstPid!)).toBe(false);
    expect(secondPid).not.toBe(firstPid);

    const stderr = await readFile(path.join(dataDir, 'deployments', id, 'stderr.log'), 'utf8');
    expect(stderr).toMatch(/crashing on purpose\nkraken: the app exited with code 1 after [\d.]+ s; restarting in 0\.2 s\n/);
    // the process group leader (the shell running `node server.js`) is new too
    const [listed] = await deployer.list();
    expect(listed).toMatchObject({ deploymentId: id, state: 'running' });
    expect(listed!.instanceId).not.toBe(instanceId);
    const state = JSON.parse(await readFile(path.join(dataDir, 'deployments', id, 'state.json'), 'utf8')) as { pid: number; restarts: number };
    expect(state).toMatchObject({ pid: Number(listed!.instanceId), restarts: 1 });
    await deployer.stop(id);
  });

  it('waits longer before each restart of an app that keeps crashing', async () => {
    await using deployer = await ProcessDeployer.create({ ...fast, dataDir });
    const repo = await scriptAppRepo(
      repoPath(dir.path, 'crash-loop'),
      "require('node:http').createServer((q, s) => s.end('up')).listen(Number(process.env.PORT));\nsetTimeout(() => process.exit(2), 700);\n",
    );
    const id = deploymentId();
    await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    const stderrFile = path.join(dataDir, 'deployments', id, 'stderr.log');
    const notes = await eventually(async () => {
      const found = (await readFile(stderrFile, 'utf8')).match(/restarting in [\d.]+ s/g) ?? [];
      return found.length >= 3 ? found : undefined;
    }, 30_000, 'three restarts');
    expect(notes.slice(0, 3)).toEqual(['restarting in 0.2 s', 'restarting in 0.4 s', 'restarting in 0.8 s']);
    await deployer.stop(id);
  });

  it('stops every process of the app, including children the run command started', async () => {
    await using deployer = await ProcessDeployer.create({ ...fast, dataDir });
    // `npm start` runs a shell that runs node: three processes in the app's group
    const repo = await gitFixtureRepo(repoPath(dir.path, 'npm-start'), {
      'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "npm start"', 'npm-start'),
      'package.json': JSON.stringify({ name: 'npm-start', version: '1.0.0', scripts: { start: 'node server.js' } }),
      'server.js': NODE_SERVER.replace("require('greet')", "((name) => 'hello ' + name)"),
    });
    const id = deploymentId();
    const { hostPort, instanceId } = await deployer.deploy({ deploymentId: id, url: repo, branch: 'main' });
    const serverPid = (await pidOf(hostPort!))!;
    expect(serverPid).not.toBe(Number(instanceId));
    expect(processAlive(serverPid)).toBe(true);
    await deployer.stop(id);
    expect(processAlive(serverPid)).toBe(false);
    expect(processAlive(Number(instanceId))).toBe(false);
  });

  it('keeps apps running when the deployer closes, and a new deployer on the same folder adopts them without starting another', async () => {
    const repo = await nodeAppRepo(repoPath(dir.path, 'adopted'));
    const id = deploymentId();
    const first = await ProcessDeployer.create({ ...fast, dataDir });
    const deployed = await first.deploy({ deploymentId: id, url: repo, branch: 'main' });
    const port = deployed.hostPort!;
    const pid = (await pidOf(port))!;

    // a second live deployer would supervise the same apps twice
    await expect(ProcessDeployer.create({ ...fast, dataDir })).rejects.toMatchObject({ code: ErrorCode.Conflict, message: expect.stringMatching(/in use/) as unknown });

    await first.close(); // the agent stops; its apps do not
    await expect(first.list()).rejects.toMatchObject({ code: ErrorCode.Closed });
    expect(await pidOf(port)).toBe(pid);

    await using second = await ProcessDeployer.create({ ...fast, dataDir });
    const listed = await second.list();
    expect(listed).toEqual([expect.objectContaining({ deploymentId: id, state: 'running', hostPort: port, instanceId: deployed.instanceId, commit: deployed.commit })]);
    const again = await second.deploy({ deploymentId: id, url: repo, branch: 'main' });
    expect(again).toMatchObject({ reused: true, instanceId: deployed.instanceId });
    expect(await pidOf(port)).toBe(pid);

    // the adopted app is supervised: killed from outside, it comes back
    process.kill(-Number(deployed.instanceId), 'SIGKILL');
    const restartedPid = await eventually(async () => {
      const current = await pidOf(port);
      return current !== undefined && current !== pid ? current : undefined;
    }, 20_000, 'the adopted app to be restarted');
    expect(restartedPid).not.toBe(pid);
    expect(await second.list()).toHaveLength(1);

    // logs of an adopted app are followed from its log files
    const lines: string[] = [];
    const follower = await second.followLogs(id, (line) => lines.push(line.text));
    await get(port, '/after-adoption');
    await eventually(() => (lines.includes('request /after-adoption') ? true : undefined), 10_000, 'a log line of the adopted app');
    follower.stop();
    await follower.done;

    await second.stop(id);
    expect(await pidOf(port)).toBeUndefined();
  });

  it('restarts an app that died while no deployer was running', async () => {
    const repo = await nodeAppRepo(repoPath(dir.path, 'died-meanwhile'));
    const id = deploymentId();
    const first = await ProcessDeployer.create({ ...fast, dataDir });
    const deployed = await first.deploy({ deploymentId: id, url: repo, branch: 'main' });
    await first.close();
    process.kill(-Number(deployed.instanceId), 'SIGKILL');
    await eventually(() => (processAlive(Number(deployed.instanceId)) ? undefined : true), 10_000, 'the app to die');

    await using second = await ProcessDeployer.create({ ...fast, dataDir });
    const pid = await eventually(() => pidOf(deployed.hostPort!), 20_000, 'the app to be restarted on adoption');
    expect(pid).not.toBe(Number(deployed.instanceId));
    await second.stop(id);
  });
});
