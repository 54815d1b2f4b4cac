import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';

/** The global install `kraken update` runs. */
export interface InstallPlan {
  name: string;
  version: string;
  registry: string;
  /** Install under this prefix (where the running copy lives) instead of npm's configured one. */
  prefix?: string | undefined;
}

/**
 * Packages of @kraken/agent's tree whose install scripts must run: better-sqlite3 fetches or builds
 * its native binding in one. npm 11 runs no dependency's install scripts in a global install unless
 * `--allow-scripts` names them (older npm runs them anyway and only warns about the flag).
 */
const ALLOWED_INSTALL_SCRIPTS = ['better-sqlite3'];

export function npmInstallArgs(plan: InstallPlan): string[] {
  return [
    'install',
    '--global',
    `${plan.name}@${plan.version}`,
    '--registry',
    plan.registry,
    `--allow-scripts=${ALLOWED_INSTALL_SCRIPTS.join(',')}`,
    ...(plan.prefix === undefined ? [] : ['--prefix', plan.prefix]),
  ];
}

/** Runs npm with its output on this terminal; resolves to npm's exit code. */
export function runNpmInstall(plan: InstallPlan): Promise<number> {
  return new Promise((resolve, reject) => {
    // from the temp dir: a global install owes nothing to the project kraken happens to be run in
    const child = spawn('npm', npmInstallArgs(plan), { stdio: ['ignore', 'inherit', 'inherit'], cwd: tmpdir() });
    child.once('error', reject);
    child.once('close', (code) => {
      resolve(code ?? 1);
    });
  });
}
