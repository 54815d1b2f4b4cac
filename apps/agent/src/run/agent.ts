import type { Logger } from '@kraken/common';
import { toKrakenError, withTimeout } from '@kraken/common';
import type { Executor } from './executor.js';
import { LATE_STOP_MS, STOP_BUDGET_MS } from './stop-bound.js';

export interface AgentOptions {
  executors: Executor[];
  logger: Logger;
  /** @default 1_000 */
  tickIntervalMs?: number;
  /**
   * How long stopping all executors may take. Each one gets what is left of it (at least
   * `lateStopMs`) before the agent moves on to the next. @default STOP_BUDGET_MS
   */
  stopBudgetMs?: number;
  /** @default LATE_STOP_MS */
  lateStopMs?: number;
}

/** The run loop: setup in order, tick, stop in reverse order. Holds no business logic. */
export class Agent {
  private readonly executors: Executor[];
  private readonly logger: Logger;
  private readonly tickIntervalMs: number;
  private readonly stopBudgetMs: number;
  private readonly lateStopMs: number;
  private readonly started: Executor[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopping: Promise<void> | undefined;

  constructor(options: AgentOptions) {
    this.executors = options.executors;
    this.logger = options.logger;
    this.tickIntervalMs = options.tickIntervalMs ?? 1_000;
    this.stopBudgetMs = options.stopBudgetMs ?? STOP_BUDGET_MS;
    this.lateStopMs = options.lateStopMs ?? LATE_STOP_MS;
  }

  async start(): Promise<void> {
    for (const executor of this.executors) {
      try {
        await executor.setup();
      } catch (error) {
        this.logger.error('executor failed to start; stopping the others', { executor: executor.name, error });
        await this.stopStarted();
        throw error;
      }
      this.started.push(executor);
      this.logger.debug('executor started', { executor: executor.name });
    }
    this.timer = setInterval(() => {
      void this.tick();
    }, this.tickIntervalMs);
  }

  /** Idempotent; concurrent callers share one shutdown. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      await this.stopStarted();
    })();
    return this.stopping;
  }

  private async tick(): Promise<void> {
    // a slow tick must not pile up behind itself
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const executor of this.started) {
        try {
          await executor.tick?.();
        } catch (error) {
          this.logger.warn('executor tick failed', { executor: executor.name, error: toKrakenError(error).message });
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  private async stopStarted(): Promise<void> {
    // one budget for the lot, so a stop is bounded however many executors run; one that overruns
    // must not keep the later ones (the store's close, the broker's) from their turn
    const deadline = Date.now() + this.stopBudgetMs;
    while (this.started.length > 0) {
      const executor = this.started.pop();
      if (executor === undefined) break;
      const timeoutMs = Math.max(deadline - Date.now(), this.lateStopMs);
      try {
        await withTimeout(executor.stop(), timeoutMs, () => {
          throw new Error(`did not stop within ${timeoutMs} ms`);
        });
        this.logger.debug('executor stopped', { executor: executor.name });
      } catch (error) {
        this.logger.warn('executor did not stop cleanly', { executor: executor.name, error: toKrakenError(error).message });
      }
    }
  }
}
