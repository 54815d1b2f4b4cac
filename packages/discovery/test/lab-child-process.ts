import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetnsHostRef, NetnsLab } from '@kraken/testing';
import type { LabJob } from './lab-child.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface JobEvent {
  id: number;
  event: string;
  at: number;
  [field: string]: unknown;
}

/** One job in a lab worker, with its events as they arrive. */
export interface Job {
  readonly id: number;
  readonly events: readonly JobEvent[];
  /** The first event of this job that matches, waiting up to `timeoutMs` (an 'error' event fails at once). */
  waitFor(predicate: (event: JobEvent) => boolean, timeoutMs: number): Promise<JobEvent>;
  /** Ends a running job gracefully (an announcer sends its goodbye); a finished job is a no-op. */
  stop(): Promise<void>;
}

/** A lab-child.ts worker in one namespace of the lab. */
export interface LabWorker {
  readonly process: ChildProcess;
  run(job: LabJob): Job;
  /** Stops every job still running. */
  stopAll(): Promise<void>;
  close(): Promise<void>;
}

const startupMs = 90_000;

/**
 * Starts lab-child.ts inside `host` on the TypeScript sources (swc, like jest) and waits until it
 * takes jobs. The code under test runs in the namespace, so its multicast and probes never touch
 * the machine's real interfaces.
 */
export async function startLabWorker(lab: NetnsLab, host: NetnsHostRef): Promise<LabWorker> {
  const child = lab.spawn(
    host,
    [process.execPath, '--conditions=@kraken/source', '--import', '@swc-node/register/esm-register', 'test/lab-child.ts'],
    {
      cwd: packageDir,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, SWC_NODE_PROJECT: path.join(packageDir, 'tsconfig.spec.json') },
    },
  );
  const label = `lab worker in ${lab.host(host).name}`;
  const events: JobEvent[] = [];
  const waiters = new Set<() => void>();
  const wakeAll = (): void => {
    for (const wake of waiters) wake();
  };
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      events.push(JSON.parse(buffered.slice(0, newline)) as JobEvent);
      buffered = buffered.slice(newline + 1);
    }
    wakeAll();
  });
  child.on('exit', wakeAll);
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;

  const waitFor = (id: number, predicate: (event: JobEvent) => boolean, timeoutMs: number): Promise<JobEvent> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `${label}, job ${id}: no awaited event within ${timeoutMs} ms; its events: ${JSON.stringify(events.filter((e) => e.id === id))}`,
          ),
        );
      }, timeoutMs);
      function check(): void {
        const mine = events.filter((event) => event.id === id);
        const found = mine.find(predicate);
        const failure = mine.find((event) => event.event === 'error');
        if (found === undefined && failure === undefined && !exited()) return;
        clearTimeout(timer);
        waiters.delete(check);
        if (found !== undefined) resolve(found);
        else
          reject(
            new Error(
              `${label}, job ${id}: ${failure === undefined ? 'the worker exited' : String(failure['message'])} before the awaited event`,
            ),
          );
      }
      waiters.add(check);
      check();
    });

  await waitFor(0, (event) => event.event === 'ready', startupMs);
  let nextId = 1;
  const running = new Set<Job>();
  const send = (job: LabJob): number => {
    const id = nextId;
    nextId += 1;
    child.stdin?.write(`${JSON.stringify({ id, job })}\n`);
    return id;
  };
  const run = (job: LabJob): Job => {
    const id = send(job);
    let stopped: Promise<void> | undefined;
    const handle: Job = {
      id,
      get events() {
        return events.filter((event) => event.id === id);
      },
      waitFor: (predicate, timeoutMs) => waitFor(id, predicate, timeoutMs),
      stop: () => {
        stopped ??= (async () => {
          running.delete(handle);
          if (exited()) return;
          const stopId = send({ mode: 'stop', job: id });
          await waitFor(stopId, (event) => event.event === 'stopped', 30_000);
        })();
        return stopped;
      },
    };
    running.add(handle);
    return handle;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all([...running].map((job) => job.stop()));
  };
  return {
    process: child,
    run,
    stopAll,
    close: async () => {
      if (exited()) return;
      const exit = once(child, 'exit');
      child.stdin?.end();
      await exit;
    },
  };
}
