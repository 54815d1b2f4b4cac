/** Reports a failure the worker survived. */
type Fail = (error: unknown, during: string, deploymentId?: string) => void;

/** The worker's work that nobody awaits: started now or after a delay, and never left to fail unseen. */
export class Background {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly fail: Fail) {}

  /** Keeps a background task's rejection from ever becoming an unhandled rejection. */
  run(task: Promise<void>, during: string, deploymentId?: string): void {
    const guarded = task.catch((error: unknown) => {
      this.fail(error, during, deploymentId);
    });
    this.tasks.add(guarded);
    void guarded.finally(() => this.tasks.delete(guarded));
  }

  /** Runs `work` after `ms` unless the worker stops first. */
  later(work: () => Promise<void>, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.run(work(), 'scheduled work');
    }, ms);
    this.timers.add(timer);
  }

  /** Drops the work scheduled for later; what already runs ends on its own. */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
