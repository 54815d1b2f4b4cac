/**
 * One job of an agent (orchestrating, running apps, announcing). The agent sets executors up in
 * order, ticks them, and stops them in reverse order, so later ones may use earlier ones.
 */
export interface Executor {
  readonly name: string;
  /** Once, before the first tick. A failure aborts the start and stops what was set up. */
  setup(): Promise<void>;
  /** Periodic work; a failure is logged and the next tick runs as usual. */
  tick?(): Promise<void> | void;
  /** Graceful: stop taking work, hand back what is in flight, leave apps running. */
  stop(): Promise<void>;
}
