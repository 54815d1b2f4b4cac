import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitFiles, eventually, freePort, gitFixtureRepo, manifestToml, uniqueName } from '@kraken/testing';
import type { DeployProgress } from '@kraken/runtime';
import { deployerPerTest } from '../test/deployer-per-test.js';
import { get, processAlive, repoPath, versionedServer } from '../test/fixtures.js';

const APP_MANIFEST = manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'older-agent-app');

interface StateDoc {
  buildDir?: string;
  cwd: string;
  [field: string]: unknown;
}

interface KeptDoc {
  v: 1;
  versions: { commit: string; state: StateDoc }[];
}

/** `doc` as an agent before version folders wrote it: no buildDir, and the build's paths under `from` moved to `to`. */
function asOlderAgent<T>(doc: T, from: string, to: string): T {
  const { buildDir: _buildDir, ...rest } = doc as StateDoc;
  return JSON.parse(JSON.stringify(rest).split(from).join(to)) as T;
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

function startedSteps(events: DeployProgress[]): string[] {
  return events.filter((event) => event.kind === 'start').map((event) => event.step);
}

describe('ProcessDeployer takes over the folders of an agent before version folders', () => {
  const setup = deployerPerTest('kraken-legacy-layout-', { nodeId: 'node-legacy', readyTimeout: '30s', stopTimeout: '3s', pollInterval: '200ms', drainTime: '200ms' });

  it('adopts the app running from <dir>/app, moves kept/<commit> builds into version folders, redeploys beside it and rolls back to either with no build', async () => {
    const { dir, dataDir } = setup;
    const repo = await gitFixtureRepo(repoPath(dir.path, 'app'), { 'shipwreck.toml': APP_MANIFEST, 'server.js': versionedServer('v1') });
    const id = uniqueName('legacy').replace(/\./g, '-');
    const folder = path.join(dataDir, 'deployments', id);
    const base = { deploymentId: id, url: repo, branch: 'main' };
    const v1 = await setup.deployer.deploy({ ...base, hostPort: await freePort() });
    await commitFiles(repo, { 'server.js': versionedServer('v2') }, 'v2');
    const v2 = await setup.deployer.deploy({ ...base, hostPort: v1.hostPort ?? 0, replace: true });
    await eventually(() => !processAlive(Number(v1.instanceId)), 10_000, 'v1 stopping after its drain');

    // the agent stops; its folder is rewritten to the older layout: the running v2's build at the
    // deployment's root, v1's aside under kept/<commit>, paths in the state and kept list to match
    await setup.deployer.close();
    const state = await readJson<StateDoc>(path.join(folder, 'state.json'));
    const kept = await readJson<KeptDoc>(path.join(folder, 'kept.json'));
    const v2Build = state.buildDir ?? '';
    const v1Build = kept.versions.find((version) => version.commit === v1.commit)?.state.buildDir ?? '';
    for (const part of await readdir(v2Build)) await rename(path.join(v2Build, part), path.join(folder, part));
    await mkdir(path.join(folder, 'kept'));
    await rename(v1Build, path.join(folder, 'kept', v1.commit));
    await rm(path.join(folder, 'versions'), { recursive: true });
    await writeFile(path.join(folder, 'state.json'), JSON.stringify(asOlderAgent(state, v2Build, folder)), { mode: 0o600 });
    const olderKept: KeptDoc = {
      v: 1,
      versions: kept.versions.map((version) => ({ ...version, state: asOlderAgent(version.state, version.commit === v1.commit ? v1Build : v2Build, folder) })),
    };
    await writeFile(path.join(folder, 'kept.json'), JSON.stringify(olderKept), { mode: 0o600 });

    const deployer = await setup.restart();
    // v2 runs on, adopted from the deployment's root; v1's build moved into a version folder
    await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, instanceId: v2.instanceId, commit: v2.commit, hostPort: v2.hostPort })]);
    await expect(get(v2.hostPort ?? 0)).resolves.toMatchObject({ body: 'v2' });
    expect((await readdir(folder)).sort()).toEqual(['app', 'kept.json', 'state.json', 'stderr.log', 'stdout.log', 'versions']);
    expect(await readdir(path.join(folder, 'versions'))).toEqual([v1.commit]);
    expect(await deployer.keptCommits(id)).toEqual([v2.commit, v1.commit]);

    // a redeploy builds beside the version at the root, which stays kept there
    const v3Commit = await commitFiles(repo, { 'server.js': versionedServer('v3') }, 'v3');
    const v3 = await deployer.deploy({ ...base, hostPort: v2.hostPort ?? 0, replace: true });
    expect(v3).toMatchObject({ commit: v3Commit, state: 'running' });
    await expect(get(v3.hostPort ?? 0)).resolves.toMatchObject({ body: 'v3' });
    await eventually(() => !processAlive(Number(v2.instanceId)), 10_000, 'v2 stopping after its drain');
    await expect(stat(path.join(folder, 'app', 'server.js'))).resolves.toBeDefined();

    for (const [wanted, body] of [
      [v2.commit, 'v2'],
      [v1.commit, 'v1'],
    ] as const) {
      const running = (await deployer.list())[0];
      const events: DeployProgress[] = [];
      const back = await deployer.deploy({ ...base, hostPort: running?.hostPort ?? 0, replace: true, commit: wanted, fromKept: true, onProgress: (event) => events.push(event) });
      expect(back).toMatchObject({ commit: wanted, fromKept: true, state: 'running' });
      expect(startedSteps(events)).toEqual(['manifest', 'run', 'ready']);
      await expect(get(back.hostPort ?? 0)).resolves.toMatchObject({ body });
    }

    await deployer.stop(id);
    await expect(readdir(folder)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
