import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { commitFiles, eventually, freePort, gitFixtureRepo, manifestToml, tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { DeployStep, probeHttp } from '../src/index.js';
import type { DeployProgress, DeployRequest, Deployer, LogLine } from '../src/index.js';

/** One test's deployer, and how to end it (close it, stop what the test left running). */
export interface ContractDeployer {
  /** The newest deployer (after a `restart`). */
  readonly deployer: Deployer;
  /** Ends this deployer and makes another on the same data (folder, node id), as an agent restart does; apps keep running. */
  restart(): Promise<Deployer>;
  dispose(): Promise<void>;
}

export interface DeployerContractHarness {
  /** A fresh deployer for one test, with a data folder of its own below `dir` where it needs one. */
  create(dir: string): Promise<ContractDeployer>;
  /** How long one case may take on this runtime (a Docker build is slower than an npm install). */
  timeoutMs: number;
}

/**
 * The app every case deploys, a node app each runtime runs: it answers every GET with `version
 * <version.txt>` (so a case sees which commit serves; then ` $GREETING` when set), logs each request's path on stdout, and its
 * manifest's test command is `test`.
 */
function appFiles(test: string): Record<string, string> {
  return {
    'shipwreck.toml': manifestToml(`lang = "node"\nport = 3000\nrun = "node server.js"\ntest = ${JSON.stringify(test)}`, 'contract-app'),
    'version.txt': 'v1\n',
    'server.js': `
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const version = fs.readFileSync(path.join(__dirname, 'version.txt'), 'utf8').trim();
const port = Number(process.env.PORT);
const server = http.createServer((request, response) => {
  console.log('request ' + request.url);
  response.end('version ' + version + (process.env.GREETING === undefined ? '' : ' ' + process.env.GREETING));
});
server.listen(port, () => console.log('listening on ' + port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  };
}

const PASSING_TEST = 'node -e "process.exit(0)"';

/** What the app on `port` answers: `version <v>`. */
async function versionOn(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/`)).text();
}

/** The deploy steps in the order every runtime runs them. */
const STEPS_IN_ORDER: readonly DeployStep[] = [DeployStep.Clone, DeployStep.Manifest, DeployStep.Build, DeployStep.Test, DeployStep.Run, DeployStep.Ready];

/**
 * What every runtime (Docker, processes) must do alike, so the worker can treat them as one: run
 * against each from its integration tests. `name` names the runtime in the test titles.
 */
export function deployerContract(name: string, harness: DeployerContractHarness): void {
  describe(`${name} (Deployer contract)`, () => {
    let dir: TempDir;
    let current: ContractDeployer;
    let deployer: Deployer;
    const deploymentId = (): string => uniqueName('contract').replace(/\./g, '-');

    beforeEach(async () => {
      dir = await tempDir('kraken-contract-');
      current = await harness.create(path.join(dir.path, 'data'));
      deployer = current.deployer;
    });

    const appRepo = (name: string, test = PASSING_TEST): Promise<string> => gitFixtureRepo(path.join(dir.path, name), appFiles(test));

    async function deployGood(name: string, hostPort?: number): Promise<{ id: string; hostPort: number; instanceId: string }> {
      const url = await appRepo(name);
      const id = deploymentId();
      const result = await deployer.deploy({ deploymentId: id, url, branch: 'main', ...(hostPort === undefined ? {} : { hostPort }) });
      if (result.hostPort === undefined) throw new Error(`deployment ${id} has no host port`);
      return { id, hostPort: result.hostPort, instanceId: result.instanceId };
    }

    const serves = async (port: number): Promise<boolean> => (await probeHttp(port, '/', 5_000)).ready;

    afterEach(async () => {
      try {
        await current.dispose();
      } finally {
        await dir.remove();
      }
    });

    it(
      'reports each step started and finished in order for a good deploy, serves the app, lists it, and stop removes it',
      async () => {
        const url = await appRepo('good-app');
        const id = deploymentId();
        const events: DeployProgress[] = [];

        const result = await deployer.deploy({ deploymentId: id, url, branch: 'main', onProgress: (event) => events.push(event) });

        expect(result).toMatchObject({ deploymentId: id, reused: false });
        expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
        const starts = events.filter((event) => event.kind === 'start').map((event) => event.step);
        const finishes = events.flatMap((event) => (event.kind === 'finish' ? [[event.step, event.ok]] : []));
        expect(starts).toEqual(STEPS_IN_ORDER);
        expect(finishes).toEqual(STEPS_IN_ORDER.map((step) => [step, true]));
        expect(events.every((event) => event.deploymentId === id)).toBe(true);
        // each step's lines come between its start and its finish
        for (const step of STEPS_IN_ORDER) {
          const positions = events.flatMap((event, index) => (event.step === step ? [[event.kind, index] as const] : []));
          expect(positions[0]?.[0]).toBe('start');
          expect(positions.at(-1)?.[0]).toBe('finish');
        }
        expect(result.hostPort).toBeDefined();
        await expect(probeHttp(result.hostPort ?? 0, '/', 5_000)).resolves.toMatchObject({ ready: true });
        await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, instanceId: result.instanceId, hostPort: result.hostPort })]);

        await deployer.stop(id);
        await expect(deployer.list()).resolves.toEqual([]);
        await expect(deployer.stop(id)).rejects.toMatchObject({ code: ErrorCode.NotFound, deploymentId: id });
      },
      harness.timeoutMs,
    );

    it.each<[string, Partial<DeployRequest>, string]>([
      ['a deployment id that cannot name anything', { deploymentId: '../escape' }, 'deploymentId'],
      ['a host port out of range', { hostPort: 70_000 }, 'hostPort'],
      ['an environment variable name with a space', { env: { 'NOT VALID': 'x' } }, 'env.NOT VALID'],
      ['a memory limit below the minimum', { limits: { memoryMb: 1 } }, 'limits.memoryMb'],
      ['an unknown limit', { limits: { memory: 512 } as DeployRequest['limits'] }, 'limits.memory'],
    ])(
      'rejects %s as InvalidInput naming the field, before any step starts',
      async (_what, change, field) => {
        const events: DeployProgress[] = [];
        const request: DeployRequest = { deploymentId: deploymentId(), url: path.join(dir.path, 'never-cloned'), branch: 'main', onProgress: (event) => events.push(event), ...change };

        await expect(deployer.deploy(request)).rejects.toMatchObject({ code: ErrorCode.InvalidInput, details: { field } });
        expect(events).toEqual([]);
        await expect(deployer.list()).resolves.toEqual([]);
      },
      harness.timeoutMs,
    );

    it(
      'refuses a host port another program holds as a Conflict naming the port, and lists nothing',
      async () => {
        const holder = createServer();
        await new Promise<void>((resolve) => {
          holder.listen(0, '0.0.0.0', resolve);
        });
        const port = (holder.address() as AddressInfo).port;
        try {
          const url = await appRepo('port-taken-app');
          const refusal = deployer.deploy({ deploymentId: deploymentId(), url, branch: 'main', hostPort: port });
          await expect(refusal).rejects.toMatchObject({ code: ErrorCode.Conflict });
          await expect(refusal).rejects.toThrow(`host port ${String(port)} is already in use`);
          await expect(deployer.list()).resolves.toEqual([]);
        } finally {
          await new Promise((resolve) => holder.close(resolve));
        }
      },
      harness.timeoutMs,
    );

    it(
      'refuses a second deploy of a deployment while the first runs as a Conflict, and the first goes on',
      async () => {
        const url = await appRepo('concurrent-app');
        const id = deploymentId();
        const first = deployer.deploy({ deploymentId: id, url, branch: 'main' });

        await expect(deployer.deploy({ deploymentId: id, url, branch: 'main' })).rejects.toMatchObject({ code: ErrorCode.Conflict, deploymentId: id });
        await expect(first).resolves.toMatchObject({ deploymentId: id });
        await deployer.stop(id);
      },
      harness.timeoutMs,
    );

    it.each<[DeployStep, string, (root: string) => Promise<string>]>([
      [DeployStep.Clone, 'a URL that is no git repository', async (root) => Promise.resolve(path.join(root, 'no-such-repo'))],
      [DeployStep.Manifest, 'a shipwreck.toml that is no TOML', async (root) => gitFixtureRepo(path.join(root, 'bad-manifest'), { ...appFiles(PASSING_TEST), 'shipwreck.toml': 'lang = \n' })],
      [DeployStep.Build, 'a package.json npm cannot read', async (root) => gitFixtureRepo(path.join(root, 'bad-package'), { ...appFiles(PASSING_TEST), 'package.json': '{ "name": ' })],
      [DeployStep.Test, 'a test command that exits 3', async (root) => gitFixtureRepo(path.join(root, 'failing-test'), appFiles('exit 3'))],
      [
        DeployStep.Ready,
        'an app that exits as it starts',
        async (root) => gitFixtureRepo(path.join(root, 'exits-at-once'), { ...appFiles(PASSING_TEST), 'server.js': 'console.error("cannot start"); process.exit(4);\n' }),
      ],
    ])(
      'rejects a deploy that fails at the %s step (%s) naming that step, finishes it not ok, and leaves nothing listed',
      async (step, _what, repo) => {
        const url = await repo(dir.path);
        const id = deploymentId();
        const events: DeployProgress[] = [];

        const error: unknown = await deployer.deploy({ deploymentId: id, url, branch: 'main', onProgress: (event) => events.push(event) }).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).toMatchObject({ deploymentId: id, details: { step } });
        const starts = events.filter((event) => event.kind === 'start').map((event) => event.step);
        expect(starts.at(-1)).toBe(step);
        expect(STEPS_IN_ORDER).toEqual(expect.arrayContaining(starts));
        expect(starts).toEqual(STEPS_IN_ORDER.filter((candidate) => starts.includes(candidate)));
        expect(events.at(-1)).toMatchObject({ kind: 'finish', step, ok: false });
        await expect(deployer.list()).resolves.toEqual([]);
      },
      harness.timeoutMs,
    );

    it(
      "follows the app's output from the deploy on, as stdout lines",
      async () => {
        const since = new Date();
        const { id, hostPort } = await deployGood('logging-app');
        const lines: LogLine[] = [];
        const follower = await deployer.followLogs(id, (line) => lines.push(line), { since });
        try {
          const marker = `/contract-log-${id}`;
          await probeHttp(hostPort, marker, 5_000);
          const line = await eventually(() => lines.find((candidate) => candidate.text.includes(marker)), 20_000, `the app's line for ${marker}`);
          expect(line).toMatchObject({ stream: 'stdout' });
          expect(line.at).toBeInstanceOf(Date);
        } finally {
          follower.stop();
          await follower.done;
        }
        await deployer.stop(id);
      },
      harness.timeoutMs,
    );

    it(
      "resumes following right after a line's cursor: every line written since, none again",
      async () => {
        const since = new Date();
        const { id, hostPort } = await deployGood('resumed-app');
        const request = (path: string): Promise<unknown> => probeHttp(hostPort, `/${id}-${path}`, 5_000);
        const paths = (lines: LogLine[]): string[] => lines.flatMap((line) => /request \/\S+-(\w+)$/.exec(line.text)?.[1] ?? []);

        const before: LogLine[] = [];
        const first = await deployer.followLogs(id, (line) => before.push(line), { since });
        for (const path of ['a', 'b', 'c']) await request(path);
        const lastSeen = await eventually(() => before.find((line) => line.text.endsWith(`${id}-c`)), 20_000, 'the line of request c');
        first.stop();
        await first.done;
        const cursor = lastSeen.cursor;
        if (cursor === undefined) throw new Error('the line of request c carries no cursor');

        for (const path of ['d', 'e']) await request(path);
        const after: LogLine[] = [];
        const second = await deployer.followLogs(id, (line) => after.push(line), { after: cursor });
        try {
          await eventually(() => paths(after).includes('e'), 20_000, 'the line of request e');
          expect(paths(after)).toEqual(['d', 'e']);
        } finally {
          second.stop();
          await second.done;
        }
        await deployer.stop(id);
      },
      harness.timeoutMs,
    );

    it(
      "measures a running app's cpu and memory, and refuses to measure one this node does not run as NotFound",
      async () => {
        const { id } = await deployGood('measured-app');

        const sample = await deployer.stats(id);
        expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);
        expect(sample.memMb).toBeGreaterThan(0);
        expect(sample.maxMemMb).toBeGreaterThanOrEqual(0);
        expect(sample.imageSizeMb).toBeGreaterThanOrEqual(0);
        await deployer.stop(id);
        await expect(deployer.stats(id)).rejects.toMatchObject({ code: ErrorCode.NotFound });
      },
      harness.timeoutMs,
    );

    it(
      'stops an app keeping what was built, lists it as exited, and starts it again without a build on the port it asked for',
      async () => {
        // a requested port: without one, Docker publishes the started container on a new ephemeral port
        const { id, hostPort } = await deployGood('stopped-app', await freePort());

        await deployer.stopApp(id);
        expect(await serves(hostPort)).toBe(false);
        await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, state: 'exited' })]);
        const started = await deployer.startApp(id);
        expect(started).toMatchObject({ deploymentId: id, state: 'running', hostPort });
        expect(await serves(hostPort)).toBe(true);
        await deployer.stop(id);
        await expect(deployer.startApp(id)).rejects.toMatchObject({ code: ErrorCode.NotFound });
      },
      harness.timeoutMs,
    );

    it(
      'adopts the apps it runs after a restart: listed, still serving, and a deploy of the same request reuses them',
      async () => {
        const url = await appRepo('adopted-app');
        const id = deploymentId();
        const first = await deployer.deploy({ deploymentId: id, url, branch: 'main' });

        deployer = await current.restart();

        await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, instanceId: first.instanceId, state: 'running' })]);
        expect(await serves(first.hostPort ?? 0)).toBe(true);
        await expect(deployer.deploy({ deploymentId: id, url, branch: 'main' })).resolves.toMatchObject({ reused: true, instanceId: first.instanceId, hostPort: first.hostPort });
        await deployer.stop(id);
      },
      harness.timeoutMs,
    );

    it(
      'replaces the commit it runs with a new environment from the build it has: no clone, build or test, and the app sees the new value',
      async () => {
        const url = await appRepo('env-app');
        const id = deploymentId();
        const hostPort = await freePort();
        const first = await deployer.deploy({ deploymentId: id, url, branch: 'main', hostPort, env: { GREETING: 'one' } });
        expect(await versionOn(hostPort)).toBe('version v1 one');

        const events: DeployProgress[] = [];
        const second = await deployer.deploy({ deploymentId: id, url, branch: 'main', hostPort, commit: first.commit, env: { GREETING: 'two' }, replace: true, onProgress: (event) => events.push(event) });

        expect(second).toMatchObject({ reused: false, buildReused: true, commit: first.commit, state: 'running' });
        const started = events.filter((event) => event.kind === 'start').map((event) => event.step);
        expect(started).not.toContain(DeployStep.Clone);
        expect(started).not.toContain(DeployStep.Build);
        expect(started).not.toContain(DeployStep.Test);
        expect(events.filter((event) => event.kind === 'line' && (event.stream === 'build' || event.stream === 'test'))).toEqual([]);
        // a runtime may start the new process beside the old one, on a port of its own: the one it reports
        expect(await versionOn(second.hostPort ?? 0)).toBe('version v1 two');
        await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, instanceId: second.instanceId })]);
        await deployer.stop(id);
      },
      harness.timeoutMs,
    );

    it(
      'replaces a running deployment with a new commit on the port it reports, and rolls back to the kept build of the old one',
      async () => {
        const url = await appRepo('replaced-app');
        const id = deploymentId();
        const hostPort = await freePort();
        const base = { deploymentId: id, url, branch: 'main', hostPort };
        const first = await deployer.deploy(base);
        expect(await versionOn(hostPort)).toBe('version v1');

        // a redeploy asks for the port the deployment reported, as the orchestrator does. The Docker
        // runtime keeps it; the process runtime starts the new version beside the old one on a port
        // of its own, and reports that: the ingress follows the reported port either way.
        const v2Commit = await commitFiles(url, { 'version.txt': 'v2\n' }, 'v2');
        const replaced = await deployer.deploy({ ...base, replace: true });
        expect(replaced).toMatchObject({ deploymentId: id, commit: v2Commit, reused: false, state: 'running' });
        const replacedPort = replaced.hostPort ?? 0;
        expect(await versionOn(replacedPort)).toBe('version v2');
        await expect(deployer.list()).resolves.toEqual([expect.objectContaining({ deploymentId: id, commit: v2Commit, hostPort: replacedPort })]);

        const events: DeployProgress[] = [];
        const rolledBack = await deployer.deploy({ ...base, hostPort: replacedPort, replace: true, commit: first.commit.slice(0, 7), fromKept: true, onProgress: (event) => events.push(event) });
        expect(rolledBack).toMatchObject({ commit: first.commit, fromKept: true, state: 'running' });
        // a kept build runs with no clone, build or test
        const started = events.filter((event) => event.kind === 'start').map((event) => event.step);
        expect(started).not.toContain(DeployStep.Build);
        expect(started).not.toContain(DeployStep.Test);
        expect(await versionOn(rolledBack.hostPort ?? 0)).toBe('version v1');
        await deployer.stop(id);
      },
      harness.timeoutMs,
    );
  });
}
