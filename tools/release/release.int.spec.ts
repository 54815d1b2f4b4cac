// The path users take, checked for real: every package published with `nx release publish` to a
// local registry (Verdaccio on loopback), `npm install -g @kraken/agent` from it into a fresh prefix,
// the installed `kraken` running a single-node cluster that deploys the example app, and the custom
// agent example built from the published packages against RabbitMQ.
// Child output is printed with String(): under Nx, FORCE_COLOR makes console.log colour numbers.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort, gitFixtureRepo, isolatedVhost, requireRabbit, tempDir, watchProcess } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';

const execFileAsync = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: unknown;
  nx?: unknown;
  devDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  kraken?: { protocolVersion?: number };
}

/** The workspace's publishable packages: what `nx release` is configured to publish (tag:publish). */
function publishableProjects(): { root: string; manifest: Manifest }[] {
  return ['packages', 'apps']
    .flatMap((group) => readdirSync(path.join(root, group)).map((name) => path.join(group, name)))
    .filter((projectRoot) => existsSync(path.join(root, projectRoot, 'package.json')))
    .map((projectRoot) => ({ root: projectRoot, manifest: readManifest(path.join(root, projectRoot, 'package.json')) }))
    .filter(({ manifest }) => manifest.private !== true);
}

function readManifest(file: string): Manifest {
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

async function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd: options.cwd ?? root,
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 600_000,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`);
  }
}

/** Runs to completion whatever the exit code, for commands whose refusals are the point. */
function runStatus(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: root, env: { ...process.env, ...env }, timeout: 600_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(new Error(`${command} did not run: ${error.message}`));
      else resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

function bumped(version: string, part: 'minor' | 'patch'): string {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  return part === 'minor' ? `${String(major)}.${String(minor + 1)}.0` : `${String(major)}.${String(minor)}.${String(patch + 1)}`;
}

const projects = publishableProjects();
let work: TempDir;
let registry: { url: string; npmrc: string };
let registryProcess: WatchedProcess | undefined;
let prefix: string;
// the installed agent and the custom agent run in a vhost of their own: in the shared one, another
// Kraken on this machine would lead, and Kraken's queue names are fixed
let vhost: IsolatedVhost;

beforeAll(async () => {
  await requireRabbit();
  vhost = await isolatedVhost('kraken-release');
  work = await tempDir('kraken-release-');
  // the same command a developer runs by hand (jest cannot import the .mjs module)
  const serving = (registryProcess = watchProcess(
    spawn(process.execPath, [path.join(__dirname, 'registry.mjs'), '--port', String(await freePort()), '--dir', path.join(work.path, 'registry')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ));
  const url = /registry: (\S+)/.exec(await serving.waitFor(/^registry: /, 300_000))?.[1] ?? '';
  const npmrc = /: (\S+)$/.exec(await serving.waitFor(/^npmrc with a publish token: /, 60_000))?.[1] ?? '';
  registry = { url, npmrc };
  // nested Nx inside this Nx task: no daemon, and the publish target builds and stages each package
  await run('npx', ['nx', 'release', 'publish', '--registry', registry.url, '--outputStyle=static'], {
    env: { NPM_CONFIG_USERCONFIG: registry.npmrc, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    timeoutMs: 900_000,
  });
}, 1_000_000);

afterAll(async () => {
  registryProcess?.kill('SIGTERM');
  await registryProcess?.exited;
  await work.remove();
  await vhost.remove();
});

async function packument(name: string): Promise<{ 'dist-tags': Record<string, string>; versions: Record<string, Manifest> }> {
  const res = await fetch(`${registry.url}${name.replace('/', '%2f')}`);
  if (!res.ok) throw new Error(`${name}: HTTP ${String(res.status)} from ${registry.url}`);
  return (await res.json()) as { 'dist-tags': Record<string, string>; versions: Record<string, Manifest> };
}

describe('nx release versioning', () => {
  it('previews a version, the dependents\' ranges and a CHANGELOG entry for every package, changing nothing', async () => {
    const before = await run('git', ['status', '--porcelain']);
    const preview = await run('npx', ['nx', 'release', 'patch', '--dry-run', '--skip-publish'], {
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NO_COLOR: '1' },
      timeoutMs: 300_000,
    });
    const agent = readManifest(path.join(root, 'apps', 'agent', 'package.json'));
    const [major, minor, patch] = readManifest(path.join(root, 'packages', 'worker', 'package.json')).version.split('.').map(Number);
    const nextWorker = `${String(major)}.${String(minor)}.${String((patch ?? 0) + 1)}`;
    for (const { root: projectRoot } of projects) expect(preview).toContain(`${projectRoot}/CHANGELOG.md`);
    // a dependent is released requiring the versions it was built with
    expect(preview).toMatch(new RegExp(`\\+\\s+"@kraken/worker": "\\^${nextWorker.replaceAll('.', '\\.')}"`));
    expect(agent.dependencies?.['@kraken/worker']).toBeDefined();
    expect(await run('git', ['status', '--porcelain'])).toBe(before);
  }, 400_000);
});

describe('nx release publish to a local registry', () => {
  it('publishes every non-private package at its workspace version, tagged latest', async () => {
    expect(projects.map(({ manifest }) => manifest.name).sort()).toEqual(
      expect.arrayContaining(['@kraken/agent', '@kraken/broker', '@kraken/messages', '@kraken/worker', '@kraken/ui-host']),
    );
    for (const { manifest } of projects) {
      const published = await packument(manifest.name);
      expect({ name: manifest.name, latest: published['dist-tags']['latest'] }).toEqual({ name: manifest.name, latest: manifest.version });
    }
  });

  it('publishes consumer manifests: no workspace-only source condition, no nx block, no devDependencies', async () => {
    for (const { manifest } of projects) {
      const published = (await packument(manifest.name)).versions[manifest.version];
      expect(JSON.stringify(published?.exports)).not.toContain('@kraken/source');
      expect({ name: manifest.name, nx: published?.nx, dev: published?.devDependencies }).toEqual({ name: manifest.name, nx: undefined, dev: undefined });
    }
  });

  it('ranges between @kraken packages accept the versions published together', () => {
    const versions = new Map(projects.map(({ manifest }) => [manifest.name, manifest.version]));
    for (const { manifest } of projects) {
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {}).filter(([dep]) => dep.startsWith('@kraken/'))) {
        expect({ from: manifest.name, dep, range }).toEqual({ from: manifest.name, dep, range: `^${String(versions.get(dep))}` });
      }
    }
  });

  it.each(projects.map(({ root: projectRoot, manifest }) => [manifest.name, projectRoot]))(
    '%s ships only what it needs and its types resolve for ESM consumers (attw)',
    async (_name, projectRoot) => {
      const staged = path.join(root, 'dist-publish', projectRoot);
      const files = JSON.parse(await run('npm', ['pack', '--dry-run', '--json'], { cwd: staged })) as [{ files: { path: string }[] }];
      const paths = files[0].files.map((file) => file.path);
      expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
      expect(paths.filter((file) => /^src\/|\.spec\.|tsbuildinfo|tsconfig|jest\.|eslint\./.test(file))).toEqual([]);
      // ESM-only packages: CommonJS consumers load them with require() on Node >= 22.15 (engines says so)
      await run(path.join(root, 'node_modules', '.bin', 'attw'), ['--pack', staged, '--profile', 'esm-only', '--format', 'ascii'], { timeoutMs: 120_000 });
    },
    180_000,
  );
});

describe('npm install -g @kraken/agent from the registry', () => {
  const agentVersion = readManifest(path.join(root, 'apps', 'agent', 'package.json')).version;
  let kraken: string;

  beforeAll(async () => {
    prefix = path.join(work.path, 'global');
    // better-sqlite3 compiles its native addon; npm 11 runs install scripts only when allowed
    await run('npm', ['install', '-g', '@kraken/agent', '--prefix', prefix, '--registry', registry.url, '--allow-scripts=better-sqlite3', '--no-audit', '--no-fund'], {
      cwd: work.path,
      env: { NPM_CONFIG_USERCONFIG: '/dev/null', npm_config_build_from_source: 'true' },
      timeoutMs: 900_000,
    });
    kraken = path.join(prefix, 'bin', 'kraken');
  }, 1_000_000);

  it('installs a kraken command that prints its version and help', async () => {
    expect((await run(kraken, ['--version'])).trim()).toBe(agentVersion);
    const help = await run(kraken, ['--help']);
    for (const verb of ['agent', 'deploy', 'ls', 'nodes', 'logs', 'cancel', 'status', 'service', 'update']) expect(help).toMatch(new RegExp(`^\\s+${verb}\\b`, 'm'));
  });

  it('runs a single-node cluster from the installed binary and deploys the example app to HTTP 200', async () => {
    const dataDir = path.join(work.path, 'agent-data');
    const apiPort = await freePort();
    const api = `http://127.0.0.1:${String(apiPort)}`;
    const nodeId = `release-${String(process.pid)}`;
    const agent: WatchedProcess = watchProcess(
      spawn(kraken, ['agent', '--data-dir', dataDir, '--node-id', nodeId, '--api-port', String(apiPort), '--api-host', '127.0.0.1', '--no-mdns', '--broker-url', vhost.url, '--public-host', '127.0.0.1'], {
        cwd: work.path,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let deploymentId: string | undefined;
    try {
      await agent.waitFor(/agent running/, 120_000);
      const repo = path.join(work.path, 'hello-node');
      cpSync(path.join(root, 'examples', 'hello-node'), repo, { recursive: true });
      await gitFixtureRepo(repo, {});
      const deployed = await run(kraken, ['deploy', repo, '--api', api, '--data-dir', dataDir, '--json'], { timeoutMs: 300_000 });
      const running = JSON.parse(deployed.trim().split('\n').at(-1) ?? '{}') as { id?: string; status?: string; port?: number };
      deploymentId = running.id;
      expect(running.status).toBe('RUNNING');
      const res = await eventually(
        async () => {
          const answer = await fetch(`http://127.0.0.1:${String(running.port)}/`);
          return answer.status === 200 ? answer : undefined;
        },
        30_000,
        'the example app answering HTTP 200',
      );
      expect(res.status).toBe(200);
      // the UI the agent serves comes from the published @kraken/ui-host bundle
      const ui = await fetch(`${api}/index.html`);
      expect({ status: ui.status, html: (await ui.text()).includes('<div id="root"') }).toEqual({ status: 200, html: true });
    } finally {
      if (deploymentId !== undefined) await run(kraken, ['cancel', deploymentId, '--api', api, '--data-dir', dataDir]).catch(() => undefined);
      agent.kill('SIGINT');
      await agent.exited;
      await run('sh', ['-c', `docker ps -aq --filter name=kraken-${nodeId}- | xargs -r docker rm -f`]).catch(() => undefined);
    }
  }, 600_000);

  /** Publishes the staged agent again as `version`, speaking `protocolVersion`: a later release. */
  async function publishAgentRelease(version: string, protocolVersion: number): Promise<void> {
    const copy = path.join(work.path, `agent-${version}`);
    cpSync(path.join(root, 'dist-publish', 'apps', 'agent'), copy, { recursive: true });
    const manifest = readManifest(path.join(copy, 'package.json'));
    writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ ...manifest, version, kraken: { ...manifest.kraken, protocolVersion } }, null, 2));
    await run('npm', ['publish', '--registry', registry.url], { cwd: copy, env: { NPM_CONFIG_USERCONFIG: registry.npmrc } });
  }

  it('kraken update installs a newer release that speaks the same protocol, when asked', async () => {
    const protocol = readManifest(path.join(root, 'apps', 'agent', 'package.json')).kraken?.protocolVersion ?? 0;
    const next = bumped(agentVersion, 'patch');
    await publishAgentRelease(next, protocol);
    const check = await runStatus(kraken, ['update', '--check', '--registry', registry.url]);
    expect({ code: check.code, available: check.stdout.includes(`${next} is available`) }).toEqual({ code: 0, available: true });
    const update = await runStatus(kraken, ['update', '--yes', '--registry', registry.url], { NPM_CONFIG_USERCONFIG: '/dev/null' });
    expect({ code: update.code, stderr: update.code === 0 ? '' : update.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await run(kraken, ['--version'])).trim()).toBe(next);
  }, 900_000);

  it('kraken update refuses a release that speaks another protocol unless forced', async () => {
    const installed = (await run(kraken, ['--version'])).trim();
    const protocol = readManifest(path.join(root, 'apps', 'agent', 'package.json')).kraken?.protocolVersion ?? 0;
    const incompatible = bumped(installed, 'minor');
    await publishAgentRelease(incompatible, protocol + 1);
    const refused = await runStatus(kraken, ['update', '--yes', '--registry', registry.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`protocol version ${String(protocol + 1)}`));
    const forced = await runStatus(kraken, ['update', '--yes', '--force', '--dry-run', '--registry', registry.url]);
    expect({ code: forced.code, plan: forced.stdout.includes(`@kraken/agent@${incompatible}`) }).toEqual({ code: 0, plan: true });
    expect((await run(kraken, ['--version'])).trim()).toBe(installed);
  }, 300_000);
});

describe('examples/custom-agent built from the published packages', () => {
  it('installs from the registry, builds, and its executor reports through RabbitMQ', async () => {
    const example = path.join(work.path, 'custom-agent');
    cpSync(path.join(root, 'examples', 'custom-agent'), example, {
      recursive: true,
      filter: (source) => !/node_modules|[/\\]dist([/\\]|$)/.test(path.relative(root, source)),
    });
    const env = { NPM_CONFIG_USERCONFIG: '/dev/null', npm_config_registry: registry.url };
    await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: example, env, timeoutMs: 600_000 });
    const installed = readManifest(path.join(example, 'node_modules', '@kraken', 'worker', 'package.json'));
    expect(installed.version).toBe(readManifest(path.join(root, 'packages', 'worker', 'package.json')).version);
    await run('npm', ['run', 'build'], { cwd: example, env });
    const out = await run('npm', ['test'], { cwd: example, env: { ...env, KRAKEN_BROKER_URL: vhost.url }, timeoutMs: 180_000 });
    expect(out).toMatch(/^custom agent check passed$/m);
    expect(out).toMatch(/ok: node.info from \S+ with extensions \{"temperature\./);
  }, 900_000);
});
