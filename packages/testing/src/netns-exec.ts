import { execFile, execFileSync } from 'node:child_process';
import { ErrorCode, KrakenError } from '@kraken/common';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** @default 30_000 */
  timeoutMs?: number | undefined;
  /** Written to the command's stdin. */
  input?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** Runs a command (no shell); rejects with a KrakenError naming the command, its exit code and stderr. */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new KrakenError(ErrorCode.InvalidInput, 'runCommand: empty command'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, env: options.env ?? process.env, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        reject(commandError(argv, error, stderr));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** The synchronous twin, for process 'exit' handlers where nothing asynchronous runs any more. */
export function runCommandSync(argv: readonly string[]): string {
  const [file, ...args] = argv;
  if (file === undefined) throw new KrakenError(ErrorCode.InvalidInput, 'runCommandSync: empty command');
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw commandError(argv, error, typeof stderr === 'string' ? stderr : '');
  }
}

/** True when the command itself is not installed (as opposed to failing). */
export function isMissingCommand(error: unknown): boolean {
  const cause = error instanceof KrakenError ? error.cause : error;
  return (cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function commandError(argv: readonly string[], error: unknown, stderr: string): KrakenError {
  const exit = error as { code?: unknown; killed?: boolean; signal?: unknown };
  const how = exit.killed === true ? `was killed (${String(exit.signal)})` : `exited with ${String(exit.code)}`;
  return new KrakenError(ErrorCode.Internal, `\`${argv.join(' ')}\` ${how}: ${stderr.trim() || 'no stderr'}`, {
    cause: error,
    details: { command: argv, stderr: stderr.trim() },
  });
}

/** Runs each command and ignores failures: teardown removes whatever of the lab still exists. */
export async function runAllIgnoringErrors(commands: readonly (readonly string[])[]): Promise<void> {
  for (const argv of commands) {
    try {
      await runCommand(argv, { timeoutMs: 10_000 });
    } catch {
      // already gone (or never made): that is the state teardown wants
    }
  }
}

export function runAllIgnoringErrorsSync(commands: readonly (readonly string[])[]): void {
  for (const argv of commands) {
    try {
      runCommandSync(argv);
    } catch {
      // see runAllIgnoringErrors
    }
  }
}
