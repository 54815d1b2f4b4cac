import type { CommandIo } from '../client/io.js';
import type { InstallPlan } from '../update/npm-install.js';
import type { FetchLike } from '../update/registry.js';
import type { UpdateDeps, UpdateInput } from './update.js';
import { updateCommand } from './update.js';

const REGISTRY = 'http://127.0.0.1:4873/';
const GLOBAL_ROOT = '/usr/local/lib/node_modules/@kraken/agent';

function capture(): CommandIo & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (line) => out.push(line), err: (line) => err.push(line), stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

function registryWith(latest: string, protocolVersion: number | undefined): FetchLike {
  const body = {
    'dist-tags': { latest },
    versions: { [latest]: { version: latest, ...(protocolVersion === undefined ? {} : { kraken: { protocolVersion } }) } },
  };
  return () => Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
}

function setup(registry: FetchLike, over: Partial<UpdateDeps> = {}) {
  const installs: InstallPlan[] = [];
  const deps: UpdateDeps = {
    installed: { name: '@kraken/agent', version: '0.1.0', protocolVersion: 1, packageRoot: GLOBAL_ROOT },
    protocolVersion: 1,
    npmRegistry: () => Promise.resolve(REGISTRY),
    fetch: registry,
    install: (plan) => {
      installs.push(plan);
      return Promise.resolve(0);
    },
    confirm: undefined,
    serviceInstalled: () => false,
    ...over,
  };
  return { deps, installs };
}

const flags = (over: Partial<UpdateInput> = {}): UpdateInput => ({ check: false, yes: false, force: false, dryRun: false, ...over });

describe('kraken update', () => {
  it('says it is up to date when the latest release is not newer, and installs nothing', async () => {
    for (const latest of ['0.1.0', '0.1.0-rc.1', '0.0.9']) {
      const { deps, installs } = setup(registryWith(latest, 1));
      const io = capture();
      await expect(updateCommand(flags({ yes: true }), deps, io)).resolves.toBe(0);
      expect(io.stdout()).toBe(`@kraken/agent 0.1.0 is up to date (latest on ${REGISTRY}: ${latest}).`);
      expect(installs).toEqual([]);
    }
  });

  it('with --check reports a newer compatible release and how to install it, installing nothing', async () => {
    const { deps, installs } = setup(registryWith('0.2.0', 1));
    const io = capture();
    await expect(updateCommand(flags({ check: true }), deps, io)).resolves.toBe(0);
    expect(io.stdout()).toContain(`@kraken/agent 0.2.0 is available on ${REGISTRY} (installed: 0.1.0).`);
    expect(io.stdout()).toContain('It speaks protocol version 1, like this install');
    expect(io.stdout()).toContain(
      `Install it with: kraken update (runs npm install --global @kraken/agent@0.2.0 --registry ${REGISTRY} --allow-scripts=better-sqlite3 --prefix /usr/local)`,
    );
    expect(installs).toEqual([]);
  });

  it('with --yes installs the version into the prefix this copy lives in, and says how to restart the service', async () => {
    const { deps, installs } = setup(registryWith('0.2.0', 1), { serviceInstalled: () => true });
    const io = capture();
    await expect(updateCommand(flags({ yes: true }), deps, io)).resolves.toBe(0);
    expect(installs).toEqual([{ name: '@kraken/agent', version: '0.2.0', registry: REGISTRY, prefix: '/usr/local' }]);
    expect(io.stdout()).toMatch(/Updated @kraken\/agent to 0\.2\.0\. The running agent is still 0\.1\.0: restart it/);
    expect(io.stdout()).toMatch(/systemctl restart kraken/);
  });

  it('asks on a terminal and installs only on yes', async () => {
    const questions: string[] = [];
    const answers = [false, true];
    const { deps, installs } = setup(registryWith('0.2.0', 1), {
      confirm: (question) => {
        questions.push(question);
        return Promise.resolve(answers.shift() ?? false);
      },
    });
    const declined = capture();
    await expect(updateCommand(flags(), deps, declined)).resolves.toBe(1);
    expect(declined.stderr()).toBe('kraken: not updated.');
    expect(installs).toEqual([]);
    const accepted = capture();
    await expect(updateCommand(flags(), deps, accepted)).resolves.toBe(0);
    expect(questions).toEqual(['Update @kraken/agent 0.1.0 -> 0.2.0? [y/N] ', 'Update @kraken/agent 0.1.0 -> 0.2.0? [y/N] ']);
    expect(installs).toHaveLength(1);
    expect(accepted.stdout()).toMatch(/Stop kraken agent .* and start it again/);
  });

  it('needs --yes without a terminal', async () => {
    const { deps, installs } = setup(registryWith('0.2.0', 1));
    await expect(updateCommand(flags(), deps, capture())).rejects.toThrow(/installs only with --yes when it cannot ask on a terminal/);
    expect(installs).toEqual([]);
  });

  it('refuses a release that speaks another protocol version, saying the cluster must be updated together', async () => {
    const { deps, installs } = setup(registryWith('1.0.0', 2));
    for (const input of [flags({ yes: true }), flags({ check: true })]) {
      await expect(updateCommand(input, deps, capture())).rejects.toMatchObject({
        code: 'UNSUPPORTED_VERSION',
        message: expect.stringMatching(
          /^not updating to @kraken\/agent 1\.0\.0: it speaks protocol version 2 and this install speaks 1; .*other nodes of this cluster and its orchestrator must be updated together.*kraken update --force/,
        ) as unknown,
      });
    }
    expect(installs).toEqual([]);
  });

  it('refuses a release that does not say its protocol version', async () => {
    const { deps } = setup(registryWith('0.2.0', undefined));
    await expect(updateCommand(flags({ yes: true }), deps, capture())).rejects.toThrow(/does not say which protocol version it speaks \(no "kraken\.protocolVersion"\)/);
  });

  it('with --force installs across protocol versions, warning about the rest of the cluster', async () => {
    const { deps, installs } = setup(registryWith('1.0.0', 2));
    const io = capture();
    await expect(updateCommand(flags({ yes: true, force: true }), deps, io)).resolves.toBe(0);
    expect(io.stderr()).toMatch(/^kraken: updating across protocol versions \(--force\): it speaks protocol version 2 and this install speaks 1/);
    expect(installs.map((plan) => plan.version)).toEqual(['1.0.0']);
  });

  it('with --dry-run prints the npm command and installs nothing, noting when this copy is not a global install', async () => {
    const { deps, installs } = setup(registryWith('0.2.0', 1), {
      installed: { name: '@kraken/agent', version: '0.1.0', protocolVersion: 1, packageRoot: '/work/main/apps/agent' },
    });
    const io = capture();
    await expect(updateCommand(flags({ dryRun: true }), deps, io)).resolves.toBe(0);
    expect(io.stdout()).toMatch(
      /^dry run, nothing changed: kraken update would run: npm install --global @kraken\/agent@0\.2\.0 --registry http:\/\/127\.0\.0\.1:4873\/ --allow-scripts=better-sqlite3$/m,
    );
    expect(io.stderr()).toMatch(/runs from \/work\/main\/apps\/agent, not from a global npm install/);
    expect(installs).toEqual([]);
  });

  it('uses --registry over npm\'s configured one, and fails with exit 1 when npm fails', async () => {
    const asked: string[] = [];
    const { deps } = setup(
      (url) => {
        asked.push(url);
        return registryWith('0.2.0', 1)(url, { headers: {}, signal: AbortSignal.timeout(1000) });
      },
      { install: () => Promise.resolve(243), npmRegistry: () => Promise.reject(new Error('npm must not be asked')) },
    );
    const io = capture();
    await expect(updateCommand(flags({ yes: true, registry: 'http://10.0.0.5:4873' }), deps, io)).resolves.toBe(1);
    expect(asked).toEqual(['http://10.0.0.5:4873/@kraken%2fagent']);
    expect(io.stderr()).toBe('kraken: npm exited with 243 (its output is above): @kraken/agent was not updated to 0.2.0.');
  });
});
