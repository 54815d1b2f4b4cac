import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { Tail } from '@kraken/runtime';
import { LineSplitter } from './lines.js';
import { signalGroup, terminateGroup } from './proc.js';

export interface CommandOptions {
  cwd: string;
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** How many last lines to keep for an error message. */
  tailLines: number;
  onLine?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** Aborted when the deployer closes (the agent stops): the group is terminated, nothing outlives the agent. */
  signal?: AbortSignal;
  /**
   * The command's nice value (19 is the lowest priority), set as it starts: what it forks inherits
   * it. Unset runs it at the agent's priority.
   */
  niceness?: number;
  /** The unprivileged user the command runs as (install and test commands run the app's code); unset: the agent's. */
  runAs?: RunAs | undefined;
}

/** Whose uid and gid a spawned process takes; its supplementary groups are dropped. */
export interface RunAs {
  uid: number;
  gid: number;
}

export type CommandOutcome =
  | { kind: 'exited'; exitCode: number; tail: readonly string[] }
  | { kind: 'signalled'; signal: NodeJS.Signals; tail: readonly string[] }
  | { kind: 'timeout'; tail: readonly string[] }
  /** Ended by `signal`. */
  | { kind: 'aborted'; tail: readonly string[] }
  /** The program could not be started at all (not installed: ENOENT). */
  | { kind: 'not-started'; error: NodeJS.ErrnoException; tail: readonly string[] };

/**
 * Process groups of step commands still running. Should this process exit first (a forced stop, a
 * crash), an exit hook kills them: a step command never outlives the agent that started it, even
 * when there was no time to end it gracefully.
 */
const runningGroups = new Set<number>();
let exitHookInstalled = false;

function killRunningGroupsAtExit(pgid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const group of runningGroups) signalGroup(group, 'SIGKILL');
    });
  }
  runningGroups.add(pgid);
}

/**
 * Runs a step command (an install, the test) to its end in its own process group, streaming its
 * output by line. Past `timeoutMs` the whole group is terminated. When the command ends, anything
 * it left running in its group (a test server it forgot to stop) is killed, so nothing outlives
 * the step. Aborting `signal` terminates the group the same way.
 */
export function runCommand(argv: readonly string[], options: CommandOptions): Promise<CommandOutcome> {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error('runCommand needs a program');
  const tail = new Tail(options.tailLines);
  if (options.signal?.aborted === true) return Promise.resolve({ kind: 'aborted', tail: [] });
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: { ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.runAs === undefined ? {} : { uid: options.runAs.uid, gid: options.runAs.gid }),
    });
    const pgid = child.pid;
    if (pgid !== undefined) killRunningGroupsAtExit(pgid);
    if (pgid !== undefined && options.niceness !== undefined) lowerPriority(pgid, options.niceness);
    const deliver = (stream: 'stdout' | 'stderr', lines: string[]): void => {
      for (const line of lines) {
        tail.push(line);
        options.onLine?.(stream, line);
      }
    };
    const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    child.stdout.on('data', (chunk: Buffer) => {
      deliver('stdout', splitters.stdout.push(chunk));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      deliver('stderr', splitters.stderr.push(chunk));
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) void terminateGroup(child.pid, 2000);
    }, options.timeoutMs);
    let aborted = false;
    const abort = (): void => {
      aborted = true;
      if (child.pid !== undefined) void terminateGroup(child.pid, 2000);
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      if (pgid !== undefined) runningGroups.delete(pgid);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      settle();
      resolve({ kind: 'not-started', error, tail: tail.lines });
    });
    child.once('exit', () => {
      // stragglers in the group would hold the pipes open and keep 'close' from firing
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    });
    child.once('close', (code, signal) => {
      settle();
      deliver('stdout', splitters.stdout.flush());
      deliver('stderr', splitters.stderr.flush());
      if (aborted) resolve({ kind: 'aborted', tail: tail.lines });
      else if (timedOut) resolve({ kind: 'timeout', tail: tail.lines });
      else if (code !== null) resolve({ kind: 'exited', exitCode: code, tail: tail.lines });
      else resolve({ kind: 'signalled', signal: signal ?? 'SIGKILL', tail: tail.lines });
    });
  });
}

/** Best effort: a command that cannot be reniced (it exited already) runs as it is. */
function lowerPriority(pid: number, niceness: number): void {
  try {
    setPriority(pid, niceness);
  } catch {
    // ESRCH: it ended before it could be reniced; EACCES cannot happen when lowering a child's priority
  }
}
