import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WorkerProcessConfig, WorkerProcessEvent } from './worker-process.js';
import { StopWaiting, eventually } from '@kraken/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const runner = path.join(here, 'worker-process.ts');

/**
 * A worker in a child process running the TypeScript sources (the `@kraken/source` export
 * condition, compiled on load by @swc-node/register), so tests exercise the code under review,
 * never a stale dist/. Its log goes to `logFile`, shown when a start fails.
 */
export class WorkerChild {
  readonly events: WorkerProcessEvent[] = [];
  private exited: Promise<unknown>;

  private constructor(
    readonly nodeId: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = once(child, 'exit');
    if (child.stdout === null) throw new Error('worker child has no stdout pipe');
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as WorkerProcessEvent);
      } catch {
        // not an event: something printed on stdout by a dependency
      }
    });
  }

  static async start(config: WorkerProcessConfig, logFile: string, timeoutMs = 90_000): Promise<WorkerChild> {
    const log = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        process.execPath,
        ['--conditions=@kraken/source', '--import', '@swc-node/register/esm-register', runner, JSON.stringify(config)],
        {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', log],
        },
      );
    } finally {
      closeSync(log);
    }
    const worker = new WorkerChild(config.nodeId, child, logFile);
    try {
      await eventually(
        () => {
          if (!worker.running)
            throw new StopWaiting(`worker process ${config.nodeId} exited during start (code ${String(child.exitCode)})`);
          return worker.events.some((e) => e.event === 'ready');
        },
        timeoutMs,
        `worker process ${config.nodeId} ready`,
      );
    } catch (error) {
      worker.kill('SIGKILL');
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n--- ${logFile} ---\n${readFileSync(logFile, 'utf8').slice(-4000)}`,
      );
    }
    return worker;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the worker found running on its node when it started. */
  reconciled(): string[] {
    const event = this.events.find((e) => e.event === 'reconciled');
    return event?.event === 'reconciled' ? event.deploymentIds : [];
  }

  /** kill -9: no handover, no goodbye; its broker connection drops with the process. */
  async crash(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }

  /**
   * SIGSTOP: the process is frozen, sends nothing and handles nothing, yet keeps its connections
   * and containers, like an agent cut off by a partition or stalled by the machine. thaw() resumes it.
   */
  freeze(): void {
    this.kill('SIGSTOP');
  }

  thaw(): void {
    this.kill('SIGCONT');
  }

  /** Graceful stop; SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.thaw();
    this.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.kill('SIGKILL');
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}
