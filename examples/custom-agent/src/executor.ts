/**
 * One job of an agent, shaped like the executors of the `kraken` agent itself: set up once, ticked
 * periodically, stopped on shutdown. Nothing here is specific to temperatures; copy it for your own.
 */
export interface Executor {
  readonly name: string;
  /** Once, before the worker starts. A failure aborts the start. */
  setup(): Promise<void>;
  /** The periodic job; a failure is logged and the next tick runs as usual. */
  tick?(): Promise<void>;
  /** On shutdown: release what setup() took. */
  stop(): Promise<void>;
}
