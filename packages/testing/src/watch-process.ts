import type { ChildProcess } from 'node:child_process';

/** A child process whose output a test reads and waits on. */
export interface WatchedProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Resolves with the first output line matching; rejects with the output when it exits or times out first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Signals the child's process group when it was spawned detached (a shell's children too), else the child. */
  kill(signal: NodeJS.Signals): void;
}

export function watchProcess(child: ChildProcess, options: { group?: boolean } = {}): WatchedProcess {
  let output = '';
  const waiters = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of waiters) wake();
  };
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    wakeAll();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    child.once('exit', (code) => {
      wakeAll();
      resolve(code);
    });
  });
  return {
    child,
    output: () => output,
    exited,
    kill: (signal) => {
      try {
        if (options.group === true && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // already gone
      }
    },
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = output.split('\n').find((candidate) => pattern.test(candidate));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`exited (${String(child.exitCode ?? child.signalCode)}) before printing ${String(pattern)}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${String(pattern)} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}
