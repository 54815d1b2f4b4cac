import { constants } from 'node:os';
import type { AppExit, AppRestarts } from '@kraken/messages';

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/** When a crash-looping app is given up on, and when a restarted one counts as recovered. */
export interface CrashLoopPolicy {
  /** Restarts that end again before the app ran steadily, after which it is stopped and Errored. */
  failAfterRestarts: number;
  /** A run this long is steady: the app is no longer crash-looping and its failures start over. */
  steadyAfterMs: number;
}

/** What the worker should say about a running app after an event of its runtime. */
export type RestartVerdict =
  | { kind: 'report'; restarts: AppRestarts; message: string }
  | { kind: 'give-up'; restarts: AppRestarts; reason: string };

export interface ExitFacts {
  atMs: number;
  code?: number | undefined;
  signal?: string | undefined;
  /** The runtime's word on why (the memory limit), added to the exit's description. */
  cause?: string | undefined;
}

/**
 * One running deployment's restarts, from its runtime's exit and start events. Pure bookkeeping:
 * the caller feeds events and the time, and publishes the verdicts. An exit counts as a failure
 * unless the run before it was steady; `failAfterRestarts` failed restarts in a row give up.
 */
export class RestartCounter {
  private count = 0;
  /** Exits since the app last ran steadily. */
  private failures = 0;
  /** Between an exit and the restart the runtime makes. */
  private down = false;
  private looping = false;
  private runStartMs: number;
  private lastExit: AppExit | undefined;

  constructor(
    private readonly policy: CrashLoopPolicy,
    /** When the worker saw the app running: events from before it belong to the deploy. */
    readonly sinceMs: number,
  ) {
    this.runStartMs = sinceMs;
  }

  exit(facts: ExitFacts): RestartVerdict {
    const ranForMs = Math.max(0, facts.atMs - this.runStartMs);
    if (!this.down && ranForMs >= this.policy.steadyAfterMs) this.failures = 0;
    this.failures += 1;
    this.down = true;
    this.looping = true;
    const reason = `${describeExit(facts)} after ${seconds(ranForMs)}`;
    this.lastExit = {
      ...(facts.code === undefined ? {} : { code: facts.code }),
      ...(facts.signal === undefined ? {} : { signal: facts.signal }),
      at: new Date(facts.atMs).toISOString(),
      reason,
    };
    const failedRestarts = this.failures - 1;
    if (failedRestarts >= this.policy.failAfterRestarts) {
      return {
        kind: 'give-up',
        restarts: this.snapshot(),
        reason: `crash loop: the app ${reason}, and ${String(failedRestarts)} restarts in a row ended the same way before it ran ${seconds(this.policy.steadyAfterMs)}; stopped it`,
      };
    }
    return { kind: 'report', restarts: this.snapshot(), message: `crash-looping: the app ${reason}; restarting it (${plural(this.count, 'restart')} so far)` };
  }

  /** undefined for a start that follows no exit: the deploy's own start, or one seen twice. */
  start(atMs: number): RestartVerdict | undefined {
    if (!this.down) return undefined;
    this.down = false;
    this.count += 1;
    this.runStartMs = atMs;
    return { kind: 'report', restarts: this.snapshot(), message: `crash-looping: restarted (restart ${String(this.count)}) after the app ${this.lastExit?.reason ?? 'ended'}` };
  }

  /** When the current run becomes steady, if it keeps running. */
  steadyAtMs(): number {
    return this.runStartMs + this.policy.steadyAfterMs;
  }

  /** The verdict that it recovered, once a crash-looping app has run steadily; else undefined. */
  steady(nowMs: number): RestartVerdict | undefined {
    if (!this.looping || this.down || nowMs < this.steadyAtMs()) return undefined;
    this.looping = false;
    this.failures = 0;
    return { kind: 'report', restarts: this.snapshot(), message: `running steadily again for ${seconds(nowMs - this.runStartMs)} after ${plural(this.count, 'restart')}` };
  }

  snapshot(): AppRestarts {
    return { count: this.count, looping: this.looping, ...(this.lastExit === undefined ? {} : { lastExit: this.lastExit }) };
  }
}

function describeExit(facts: ExitFacts): string {
  const how = describeEnd(facts);
  return facts.cause === undefined ? how : `${how}: ${facts.cause}`;
}

function describeEnd(facts: ExitFacts): string {
  if (facts.code !== undefined) {
    // a container's code 128 + n means signal n (Docker reports no signal): 137 is SIGKILL, often the memory limit
    const signal = facts.code > 128 ? signalNames.get(facts.code - 128) : undefined;
    return `exited with code ${String(facts.code)}${signal === undefined ? '' : ` (${signal})`}`;
  }
  if (facts.signal !== undefined) return `was killed by ${facts.signal}`;
  return 'stopped running';
}

/** "3.0 s", or "15 s" from ten seconds on. */
export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${String(Math.round(ms / 1000))} s`;
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}
