import type { Clock } from '@kraken/common';
import type { AppReadiness } from '@kraken/messages';
import { probeHttp } from '@kraken/runtime';
import { seconds } from './restarts.js';

/** One check of a running app: whether anything answered HTTP on its port, and if not, why. */
export type ReadyProbe = (port: number, timeoutMs: number) => Promise<{ answered: boolean; reason?: string | undefined }>;

/**
 * Any HTTP answer counts, a 404 or a 500 too: the app is there and says something, which is all
 * the ingress needs to keep sending it requests. A refused, reset or timed-out connection does not.
 */
export const httpProbe: ReadyProbe = async (port, timeoutMs) => {
  const result = await probeHttp(port, '/', timeoutMs);
  return result.status === undefined ? { answered: false, reason: result.reason } : { answered: true };
};

export interface ReadyPolicy {
  /** How often each running app is checked. */
  intervalMs: number;
  /** How long one check may wait for an answer. */
  probeTimeoutMs: number;
  /** Checks in a row without an answer after which the app is unready; one answer makes it ready again. */
  failuresBeforeUnready: number;
}

export interface ReadyWatchOptions {
  policy: ReadyPolicy;
  clock: Clock;
  probe: ReadyProbe;
  /** The crash watch's business: an app the runtime is restarting is not checked (nor reported twice). */
  isRestarting: (deploymentId: string) => boolean;
  /** Called when an app turns unready or ready again, with the message to show. */
  onChange: (deploymentId: string, readiness: AppReadiness, message: string) => void;
}

interface Watched {
  readonly port: number;
  readiness: AppReadiness;
  failures: number;
  /** When the app last answered (or was seen running): its silence is counted from then, and an unready app is unready since then. */
  lastAnswerMs: number;
  inFlight: boolean;
}

/**
 * Checks every running app with a port for an HTTP answer, so that one that hangs (a live
 * process or container that no longer answers) is noticed after it was deployed, not only while
 * it started. One check in flight per app: a hung app's checks never pile up.
 */
export class ReadyWatch {
  private readonly apps = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReadyWatchOptions) {}

  /** A deployment now runs on `port` (deployed, redeployed, restarted or taken over): it starts ready. */
  running(deploymentId: string, port: number | undefined): void {
    this.apps.delete(deploymentId);
    if (port === undefined) return;
    const now = this.options.clock.now();
    this.apps.set(deploymentId, { port, readiness: { ready: true, since: new Date(now).toISOString() }, failures: 0, lastAnswerMs: now, inFlight: false });
    this.ensureTicking();
  }

  /** It no longer runs here, or is being redeployed or stopped: a check still in flight is ignored. */
  forget(deploymentId: string): void {
    this.apps.delete(deploymentId);
    if (this.apps.size === 0) this.stopTicking();
  }

  /** What to report with a Running status; undefined for an app without a port or not watched. */
  readinessOf(deploymentId: string): AppReadiness | undefined {
    return this.apps.get(deploymentId)?.readiness;
  }

  stop(): void {
    this.apps.clear();
    this.stopTicking();
  }

  private ensureTicking(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.checkAll();
    }, this.options.policy.intervalMs);
    this.timer.unref();
  }

  private stopTicking(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private checkAll(): void {
    for (const [deploymentId, app] of this.apps) {
      if (app.inFlight) continue;
      if (this.options.isRestarting(deploymentId)) {
        // down between restarts, not hung: counting from when it runs again
        app.failures = 0;
        app.lastAnswerMs = this.options.clock.now();
        continue;
      }
      app.inFlight = true;
      void this.check(deploymentId, app);
    }
  }

  private async check(deploymentId: string, app: Watched): Promise<void> {
    let result: Awaited<ReturnType<ReadyProbe>>;
    try {
      result = await this.options.probe(app.port, this.options.policy.probeTimeoutMs);
    } catch (error) {
      result = { answered: false, reason: error instanceof Error ? error.message : String(error) };
    } finally {
      app.inFlight = false;
    }
    // forgotten or deployed again while the check waited: its answer is about an app that is gone
    if (this.apps.get(deploymentId) !== app) return;
    const now = this.options.clock.now();
    if (result.answered) this.answered(deploymentId, app, now);
    else this.unanswered(deploymentId, app, now, result.reason);
  }

  private answered(deploymentId: string, app: Watched, now: number): void {
    const wasReady = app.readiness.ready;
    const silentMs = now - app.lastAnswerMs;
    app.failures = 0;
    app.lastAnswerMs = now;
    if (wasReady) return;
    app.readiness = { ready: true, since: new Date(now).toISOString() };
    this.options.onChange(deploymentId, app.readiness, `answering on port ${String(app.port)} again after ${seconds(silentMs)}: the ingress sends it requests again`);
  }

  private unanswered(deploymentId: string, app: Watched, now: number, reason: string | undefined): void {
    app.failures += 1;
    const { failuresBeforeUnready } = this.options.policy;
    if (!app.readiness.ready || app.failures < failuresBeforeUnready) return;
    const silence = `not answering on port ${String(app.port)} for ${seconds(now - app.lastAnswerMs)} (${String(app.failures)} checks${reason === undefined ? '' : `, last: ${reason}`})`;
    app.readiness = { ready: false, since: new Date(app.lastAnswerMs).toISOString(), reason: silence.slice(0, 512) };
    this.options.onChange(deploymentId, app.readiness, `${silence}: the ingress sends it nothing until it answers again`);
  }
}
