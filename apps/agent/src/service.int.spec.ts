// Issue 8: `kraken service install --dry-run` prints a unit that systemd itself accepts. This machine
// runs no systemd, but `systemd-analyze verify` (Debian's systemd package) checks a unit file offline:
// its syntax, quoting, specifiers and that ExecStart's program exists.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { CLI, runKraken } from '../test/cli-process.js';

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`cannot run ${command} (${String(error.code)}): ${command === 'systemd-analyze' ? "install Debian's systemd package (apt-get install -y systemd)" : error.message}`));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

const UNIT_PATH = '/etc/systemd/system/kraken.service';

describe('kraken service', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir('kraken-service-');
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('install --dry-run prints a unit that systemd-analyze verify accepts without a warning', async () => {
    const dataDir = path.join(dir.path, 'data dir 100%');
    const result = await runKraken([
      'service', 'install', '--dry-run', '--data-dir', dataDir,
      '--', '--no-mdns', '--public-host', 'my "lab" host', '--api-port', '4100', '--config', '/etc/a$b;c\\d.toml', '--join-token', 'tok-secret-1',
    ]);
    expect(result.stderr).toMatch(/^# dry run, nothing changed: kraken service install would write \/etc\/systemd\/system\/kraken\.service/);
    expect(result.code).toBe(0);
    const unit = result.stdout;
    expect(unit).toContain(`\nExecStart=${process.execPath} ${CLI} agent --no-mdns --public-host "my \\"lab\\" host" --api-port 4100 --config "/etc/a$$b;c\\\\d.toml"\n`);
    // the join token is not in the unit (every user may read it): an environment file only root reads has it
    expect(unit).not.toContain('tok-secret-1');
    expect(unit).toContain('\nEnvironmentFile=/etc/kraken/agent.env\n');
    expect(result.stderr).toContain('/etc/kraken/agent.env (mode 0600, root) with KRAKEN_JOIN_TOKEN (not shown)');
    expect(unit).toContain(`\nEnvironment="KRAKEN_DATA_DIR=${dataDir.replace('%', '%%')}"\n`);

    const file = path.join(dir.path, 'kraken.service');
    fs.writeFileSync(file, unit);
    const verify = await run('systemd-analyze', ['verify', '--man=no', file]);
    expect({ code: verify.code, output: `${verify.stdout}${verify.stderr}` }).toEqual({ code: 0, output: '' });
  });

  it('verify would catch a broken unit, so its silence above means something', async () => {
    const file = path.join(dir.path, 'broken', 'kraken.service');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, '[Service]\nExecStart=/usr/bin/env "unbalanced\nKillMode=process\n');
    const verify = await run('systemd-analyze', ['verify', '--man=no', file]);
    expect(verify.stderr).toMatch(/Unbalanced quoting/);
  });

  it('install on a machine without systemd installs nothing, prints the unit and what to do, and exits 1', async () => {
    const existedBefore = fs.existsSync(UNIT_PATH);
    // a private, empty /run hides a running systemd (as on a CI runner that has one), so nothing is installed for real
    const result = await run('unshare', [
      '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs kraken-empty-run /run && exec "$0" "$@"',
      process.execPath, CLI, 'service', 'install', '--data-dir', path.join(dir.path, 'data'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^# Written by `kraken service install`[\s\S]*\nExecStart=\S+ \S+cli\.js agent\n[\s\S]*WantedBy=multi-user\.target\n$/);
    expect(result.stderr).toMatch(/^kraken: systemd is not running on this machine \(no \/run\/systemd\/system\): nothing was installed\.$/m);
    expect(result.stderr).toMatch(/^ {2}systemctl daemon-reload$/m);
    expect(result.stderr).toMatch(/^ {2}systemctl enable --now kraken$/m);
    expect(result.stderr).toMatch(/^ {2}@reboot mkdir -p \S+ && KRAKEN_DATA_DIR=\S+ \S+ \S+cli\.js agent >>\S+agent\.log 2>&1$/m);
    expect(fs.existsSync(UNIT_PATH)).toBe(existedBefore);
  });
});
