import type { CommandIo } from '../client/io.js';
import type { ServiceHost, SystemdState } from '../service/service-host.js';
import { ENV_FILE_PATH, UNIT_PATH } from '../service/unit-file.js';
import type { ServiceInstallInput } from './service.js';
import { serviceInstallCommand, serviceUninstallCommand } from './service.js';

function capture(): CommandIo & { out: jest.Mock; err: jest.Mock; stdout: () => string; stderr: () => string } {
  const out = jest.fn<undefined, [string]>();
  const err = jest.fn<undefined, [string]>();
  return { out, err, stdout: () => out.mock.calls.map(([line]) => line).join('\n'), stderr: () => err.mock.calls.map(([line]) => line).join('\n') };
}

/** A machine in memory: files, users, and a systemctl that records what it was asked. */
class FakeHost implements ServiceHost {
  files = new Map<string, string>();
  modes = new Map<string, number>();
  calls: string[] = [];
  failing: string | undefined;
  writeError: NodeJS.ErrnoException | undefined;
  users: Record<string, string> = { root: '/root', ana: '/home/ana' };
  constructor(private readonly state: SystemdState) {}
  systemd = () => this.state;
  readFile = (file: string) => this.files.get(file);
  writeFile = (file: string, text: string, mode: number) => {
    if (this.writeError !== undefined) throw this.writeError;
    this.files.set(file, text);
    this.modes.set(file, mode);
  };
  removeFile = (file: string) => {
    this.files.delete(file);
  };
  systemctl = (args: readonly string[]) => {
    const call = args.join(' ');
    this.calls.push(call);
    return Promise.resolve(call === this.failing ? 1 : 0);
  };
  currentUser = () => 'root';
  homeOf = (user: string) => Promise.resolve(this.users[user]);
}

const withSystemd = () => new FakeHost({ running: true });
const withoutSystemd = () => new FakeHost({ running: false, reason: 'systemd is not running on this machine (no /run/systemd/system)' });
const input = (over: Partial<ServiceInstallInput> = {}): ServiceInstallInput => ({
  dryRun: false,
  agentArgs: [],
  node: '/usr/bin/node',
  cli: '/usr/lib/node_modules/@kraken/agent/dist/cli.js',
  env: {},
  ...over,
});

describe('kraken service install', () => {
  it('writes the unit, reloads systemd and enables and starts the service', async () => {
    const host = withSystemd();
    const io = capture();
    await expect(serviceInstallCommand(input({ agentArgs: ['--no-mdns'] }), host, io)).resolves.toBe(0);
    const unit = host.files.get(UNIT_PATH) ?? '';
    expect(unit).toContain('\nExecStart=/usr/bin/node /usr/lib/node_modules/@kraken/agent/dist/cli.js agent --no-mdns\n');
    expect(unit).toContain('\nEnvironment="KRAKEN_DATA_DIR=/root/.kraken"\n');
    expect(host.calls).toEqual(['daemon-reload', 'enable --now kraken']);
    expect(io.stdout()).toMatch(/^wrote \/etc\/systemd\/system\/kraken\.service$/m);
    expect(io.stdout()).toMatch(/journalctl -u kraken -f/);
  });

  it('keeps the join token out of the unit and of ps: it goes to a root-only environment file', async () => {
    const host = withSystemd();
    const io = capture();
    await expect(serviceInstallCommand(input({ agentArgs: ['--priority', '1', '--join-token', 'tok-1'] }), host, io)).resolves.toBe(0);
    const unit = host.files.get(UNIT_PATH) ?? '';
    expect(unit).not.toContain('tok-1');
    expect(unit).toMatch(/^ExecStart=\S+ \S+ agent --priority 1$/m);
    expect(unit).toContain(`EnvironmentFile=${ENV_FILE_PATH}`);
    expect(host.files.get(ENV_FILE_PATH)).toContain('\nKRAKEN_JOIN_TOKEN=tok-1\n');
    expect(host.modes.get(ENV_FILE_PATH)).toBe(0o600);
    expect(io.stdout()).not.toContain('tok-1');

    // the same unit with another token is a change: the running agent is restarted to take it
    await serviceInstallCommand(input({ agentArgs: ['--priority', '1', '--join-token=tok-2'] }), host, capture());
    expect(host.files.get(ENV_FILE_PATH)).toContain('\nKRAKEN_JOIN_TOKEN=tok-2\n');
    expect(host.calls.at(-1)).toBe('restart kraken');
    // uninstall takes the secrets with it
    await serviceUninstallCommand({ dryRun: false }, host, capture());
    expect([...host.files.keys()]).toEqual([]);
  });

  it('restarts a running service whose unit it replaced, and only reloads an unchanged one', async () => {
    const host = withSystemd();
    host.files.set(UNIT_PATH, '[Service]\nExecStart=/old/node old.js agent\n');
    await serviceInstallCommand(input(), host, capture());
    expect(host.calls).toEqual(['daemon-reload', 'enable kraken', 'restart kraken']);
    host.calls = [];
    const io = capture();
    await serviceInstallCommand(input(), host, io);
    expect(host.calls).toEqual(['daemon-reload', 'enable --now kraken']);
    expect(io.stdout()).toMatch(/^kept \/etc\/systemd\/system\/kraken\.service$/m);
  });

  it('runs as --user, else the user who ran sudo, with the data dir from --data-dir, then $KRAKEN_DATA_DIR, then that user\'s home', async () => {
    const dataDirOf = async (over: Partial<ServiceInstallInput>) => {
      const host = withSystemd();
      await serviceInstallCommand(input(over), host, capture());
      const unit = host.files.get(UNIT_PATH) ?? '';
      return { env: /^Environment=(.*)$/m.exec(unit)?.[1], user: /^User=(.*)$/m.exec(unit)?.[1] };
    };
    await expect(dataDirOf({ user: 'ana' })).resolves.toEqual({ env: '"KRAKEN_DATA_DIR=/home/ana/.kraken"', user: 'ana' });
    // sudo kraken service install: the agent runs as the user who ran sudo, whose client verbs read its token
    await expect(dataDirOf({ env: { SUDO_USER: 'ana' } })).resolves.toEqual({ env: '"KRAKEN_DATA_DIR=/home/ana/.kraken"', user: 'ana' });
    await expect(dataDirOf({ user: 'ana', env: { KRAKEN_DATA_DIR: '/srv/kraken' } })).resolves.toEqual({ env: '"KRAKEN_DATA_DIR=/srv/kraken"', user: 'ana' });
    await expect(dataDirOf({ dataDir: '/data/my kraken', env: { KRAKEN_DATA_DIR: '/srv/kraken' } })).resolves.toEqual({
      env: '"KRAKEN_DATA_DIR=/data/my kraken"',
      user: 'root',
    });
  });

  it('refuses a user that does not exist before changing anything', async () => {
    const host = withSystemd();
    await expect(serviceInstallCommand(input({ user: 'nobody-here' }), host, capture())).rejects.toThrow(/--user: there is no user "nobody-here" on this machine/);
    expect(host.files.size).toBe(0);
    expect(host.calls).toEqual([]);
  });

  it('without systemd writes nothing, prints the unit, the commands and a crontab line, and exits 1', async () => {
    const host = withoutSystemd();
    const io = capture();
    await expect(serviceInstallCommand(input(), host, io)).resolves.toBe(1);
    expect(host.files.size).toBe(0);
    expect(host.calls).toEqual([]);
    expect(io.stdout()).toMatch(/^# Written by `kraken service install`.*\n\[Unit\]\n[\s\S]*\nWantedBy=multi-user\.target$/);
    const stderr = io.stderr();
    expect(stderr).toMatch(/^kraken: systemd is not running on this machine \(no \/run\/systemd\/system\): nothing was installed\.$/m);
    expect(stderr).toContain(`save the unit above as ${UNIT_PATH}`);
    expect(stderr).toMatch(/^ {2}systemctl daemon-reload\n {2}systemctl enable --now kraken$/m);
    expect(stderr).toMatch(/^ {2}@reboot mkdir -p \/root\/\.kraken && KRAKEN_DATA_DIR=\/root\/\.kraken \/usr\/bin\/node \S+cli\.js agent >>\/root\/\.kraken\/agent\.log 2>&1$/m);
  });

  it('with --dry-run prints the unit and the commands and changes nothing, with or without systemd', async () => {
    for (const host of [withSystemd(), withoutSystemd()]) {
      const io = capture();
      await expect(serviceInstallCommand(input({ dryRun: true }), host, io)).resolves.toBe(0);
      expect(host.files.size).toBe(0);
      expect(host.calls).toEqual([]);
      expect(io.stdout()).toMatch(/^# Written by[\s\S]*\[Service\][\s\S]*ExecStart=\/usr\/bin\/node /);
      expect(io.stderr()).toContain('#   systemctl daemon-reload\n#   systemctl enable --now kraken');
    }
  });

  it('says to run as root when the unit cannot be written', async () => {
    const host = withSystemd();
    host.writeError = Object.assign(new Error(`EACCES: permission denied, open '${UNIT_PATH}'`), { code: 'EACCES' });
    const io = capture();
    await expect(serviceInstallCommand(input(), host, io)).resolves.toBe(1);
    expect(io.stderr()).toMatch(/cannot write \/etc\/systemd\/system\/kraken\.service: EACCES.*run kraken service install as root \(sudo\)/);
    expect(host.calls).toEqual([]);
  });

  it('stops at a failing systemctl step and says what is left to run', async () => {
    const host = withSystemd();
    host.failing = 'daemon-reload';
    const io = capture();
    await expect(serviceInstallCommand(input(), host, io)).resolves.toBe(1);
    expect(host.calls).toEqual(['daemon-reload']);
    expect(io.stderr()).toBe(
      'kraken: systemctl daemon-reload exited with 1; the unit is in /etc/systemd/system/kraken.service. After fixing it, run: systemctl enable --now kraken',
    );
  });
});

describe('kraken service uninstall', () => {
  it('stops and disables the service, removes the unit and reloads systemd', async () => {
    const host = withSystemd();
    host.files.set(UNIT_PATH, 'unit');
    const io = capture();
    await expect(serviceUninstallCommand({ dryRun: false }, host, io)).resolves.toBe(0);
    expect(host.calls).toEqual(['disable --now kraken', 'daemon-reload']);
    expect(host.files.has(UNIT_PATH)).toBe(false);
    expect(io.stdout()).toMatch(/Apps it started keep running/);
  });

  it('keeps the unit when disabling fails', async () => {
    const host = withSystemd();
    host.files.set(UNIT_PATH, 'unit');
    host.failing = 'disable --now kraken';
    await expect(serviceUninstallCommand({ dryRun: false }, host, capture())).resolves.toBe(1);
    expect(host.files.has(UNIT_PATH)).toBe(true);
  });

  it('has nothing to do when no unit is installed', async () => {
    const host = withoutSystemd();
    const io = capture();
    await expect(serviceUninstallCommand({ dryRun: false }, host, io)).resolves.toBe(0);
    expect(io.stdout()).toMatch(/no kraken service is installed .*nothing to do[\s\S]*crontab -e/);
  });

  it('with --dry-run, or without systemd, only prints the commands', async () => {
    const dry = withSystemd();
    dry.files.set(UNIT_PATH, 'unit');
    const io = capture();
    await expect(serviceUninstallCommand({ dryRun: true }, dry, io)).resolves.toBe(0);
    expect(io.stdout()).toContain('  systemctl disable --now kraken\n  rm -f /etc/systemd/system/kraken.service /etc/kraken/agent.env\n  systemctl daemon-reload');
    const offline = withoutSystemd();
    offline.files.set(UNIT_PATH, 'unit');
    await expect(serviceUninstallCommand({ dryRun: false }, offline, capture())).resolves.toBe(1);
    for (const host of [dry, offline]) {
      expect(host.calls).toEqual([]);
      expect(host.files.has(UNIT_PATH)).toBe(true);
    }
  });
});
