import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Whether this machine can take a systemd unit, and if not, why. */
export type SystemdState = { running: true } | { running: false; reason: string };

/** What `kraken service` touches on the machine; tests give their own. */
export interface ServiceHost {
  systemd(): SystemdState;
  /** The unit file's text, or undefined when there is none. */
  readFile(file: string): string | undefined;
  /** Writes a file (its directory made, 0755), with this mode. */
  writeFile(file: string, text: string, mode: number): void;
  removeFile(file: string): void;
  /** Runs `systemctl <args>` with its output shown to the user; resolves to its exit code. */
  systemctl(args: readonly string[]): Promise<number>;
  currentUser(): string;
  /** The home directory of a user, or undefined when there is no such user. */
  homeOf(user: string): Promise<string | undefined>;
}

/** sd_booted(3): systemd is the running init exactly when this directory exists. */
const SYSTEMD_RUNTIME_DIR = '/run/systemd/system';

export function systemServiceHost(
  env: Readonly<Record<string, string | undefined>>,
  options: { systemdRuntimeDir?: string } = {},
): ServiceHost {
  const runtimeDir = options.systemdRuntimeDir ?? SYSTEMD_RUNTIME_DIR;
  return {
    systemd: () => {
      if (!fs.existsSync(runtimeDir)) return { running: false, reason: `systemd is not running on this machine (no ${runtimeDir})` };
      if (findOnPath('systemctl', env['PATH']) === undefined) return { running: false, reason: 'systemctl is not on the PATH' };
      return { running: true };
    },
    readFile: (file) => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    writeFile: (file, text, mode) => {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
      // a new file, renamed over the old: an existing file would keep its mode while the text is written
      const next = `${file}.new`;
      fs.rmSync(next, { force: true });
      fs.writeFileSync(next, text, { mode });
      fs.renameSync(next, file);
    },
    removeFile: (file) => {
      fs.rmSync(file, { force: true });
    },
    systemctl: (args) =>
      new Promise((resolve, reject) => {
        const child = spawn('systemctl', args, { stdio: ['ignore', 'inherit', 'inherit'] });
        child.once('error', reject);
        child.once('close', (code) => {
          resolve(code ?? 1);
        });
      }),
    currentUser: () => os.userInfo().username,
    homeOf: (user) => homeFromPasswd(user),
  };
}

/** `getent passwd` also sees users from LDAP and the like; /etc/passwd where getent is missing. */
async function homeFromPasswd(user: string): Promise<string | undefined> {
  const entry = await new Promise<string | undefined>((resolve) => {
    execFile('getent', ['passwd', user], { encoding: 'utf8' }, (error, stdout) => {
      if (error === null) resolve(stdout.split('\n')[0]);
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') resolve(readPasswdEntry(user));
      else resolve(undefined);
    });
  });
  const home = entry?.split(':')[5];
  return home === undefined || home === '' ? undefined : home;
}

function readPasswdEntry(user: string): string | undefined {
  try {
    return fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((line) => line.split(':')[0] === user || line.split(':')[2] === user);
  } catch {
    return undefined;
  }
}

function findOnPath(command: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
