import type { KrakenError } from '@kraken/common';
import { ErrorCode, toKrakenError } from '@kraken/common';
import type { AppReadiness, AppRestarts, DeployCancelBody, DeployLifecycleBody } from '@kraken/messages';
import { DeploymentStatus, LifecycleAction, Runtime } from '@kraken/messages';
import type { Background } from './background.js';
import type { Deployer } from './deployer.js';
import type { LogFollowing } from './log-following.js';
import type { RestartVerdict } from './restarts.js';
import type { StatusOutbox } from './status-outbox.js';
import type { Tracked, TrackedDeployments } from './tracked.js';
import { describePhase } from './tracked.js';
import type { WorkerPart } from './worker-events.js';

export interface AppLifecycleOptions extends WorkerPart {
  runtime: Runtime;
  deployer: Pick<Deployer, 'stop' | 'stopApp' | 'startApp'>;
  deployments: TrackedDeployments;
  logs: Pick<LogFollowing, 'follow'>;
  outbox: Pick<StatusOutbox, 'publish' | 'publishUntracked' | 'send'>;
  background: Pick<Background, 'run'>;
  stopped: () => boolean;
}

/**
 * What becomes of an app after its deploy: destroyed on a cancel or stop, stopped, started or
 * restarted without a build, given up on when it keeps crashing, and said to answer or not.
 */
export class AppLifecycle {
  constructor(private readonly options: AppLifecycleOptions) {}

  /** A deploy.cancel or deploy.stop: what is queued never starts, what deploys ends after its step, what runs stops. */
  async cancel(body: DeployCancelBody, type: string): Promise<void> {
    const { deployments, outbox } = this.options;
    const { deploymentId } = body;
    const why = body.reason === undefined ? type : `${type}: ${body.reason}`;
    const t = deployments.get(deploymentId);
    if (!t) {
      await this.destroyUntracked(deploymentId, why);
      return;
    }
    if (t.phase === 'destroying' || t.cancelled) {
      this.options.report.counters.duplicateRequests++;
      outbox.publish(t, t.status, { message: 'already being destroyed', force: true });
      return;
    }
    this.options.logger.info('destroying deployment', { deploymentId, phase: t.phase, reason: why });
    const phase = t.phase;
    t.cancelled = true;
    t.phase = 'destroying';
    if (phase === 'queued') {
      outbox.publish(t, DeploymentStatus.DestructionInProgress, { message: why });
      // runDeploy wakes up, sees the cancel and reports Destroyed
      t.ticket?.release();
    } else if (phase === 'deploying') {
      // a deploy step cannot be interrupted; runDeploy removes what it made once the step ends
      outbox.publish(t, DeploymentStatus.DestructionInProgress, { message: `${why}; stopping once the current deploy step ends` });
    } else {
      outbox.publish(t, DeploymentStatus.DestructionInProgress, { message: why });
      await this.destroy(t);
    }
  }

  /** Stops the container, the log follower and stats, then reports Destroyed (or Errored). */
  async destroy(t: Tracked): Promise<void> {
    const { outbox } = this.options;
    t.phase = 'destroying';
    if (t.status !== DeploymentStatus.DestructionInProgress) outbox.publish(t, DeploymentStatus.DestructionInProgress, {});
    t.follower?.stop();
    t.follower = undefined;
    const failure = await this.remove(t.deploymentId);
    if (failure !== undefined) {
      this.options.report.fail(failure, 'stop the container', t.deploymentId);
      // its code tells the orchestrator when the engine did not answer (EngineDown): it stops the container once the engine is back
      outbox.publish(t, DeploymentStatus.Errored, { message: `could not stop deployment: ${failure.message}`, errorCode: failure.code });
      await this.options.deployments.untrack(t);
      return;
    }
    await this.finishDestroyed(t, 'container stopped and removed');
  }

  async finishDestroyed(t: Tracked, message: string): Promise<void> {
    if (t.status !== DeploymentStatus.DestructionInProgress) this.options.outbox.publish(t, DeploymentStatus.DestructionInProgress, {});
    this.options.outbox.publish(t, DeploymentStatus.Destroyed, { message });
    await this.options.deployments.untrack(t);
  }

  /** A stop for something this worker does not hold: remove any leftover container, then say Destroyed. */
  private async destroyUntracked(deploymentId: string, why: string): Promise<void> {
    const { outbox, logger, nodeId } = this.options;
    try {
      await this.options.deployer.stop(deploymentId);
      logger.info('stopped a container this worker did not track', { deploymentId, reason: why });
      outbox.publishUntracked(deploymentId, DeploymentStatus.Destroyed, 'stopped and removed a leftover container');
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code === ErrorCode.NotFound) {
        logger.info('nothing to stop for an unknown deployment; reporting Destroyed', { deploymentId, reason: why });
        outbox.publishUntracked(deploymentId, DeploymentStatus.Destroyed, `nothing to stop: node ${nodeId} runs no deployment ${deploymentId}`);
      } else {
        this.options.report.fail(failure, 'stop an untracked container', deploymentId);
        outbox.publishUntracked(deploymentId, DeploymentStatus.Errored, `could not stop deployment: ${failure.message}`);
      }
    }
  }


  // ---- stop, start, restart (no rebuild) -------------------------------------------------------

  /**
   * A stop, start or restart the user asked for. A stopped app is not tracked (like a stopped
   * container found after a restart): it is neither in heartbeats nor sampled, and a start tracks
   * it again. Runs in the background, so a slow start does not hold up other commands.
   */
  command(body: DeployLifecycleBody): void {
    const { deployments, outbox, background, nodeId } = this.options;
    const { deploymentId, action } = body;
    const t = deployments.get(deploymentId);
    if (t !== undefined && t.phase !== 'running') {
      outbox.publish(t, t.status, { message: `cannot ${action} it now: it is ${describePhase(t.phase)} on ${nodeId}`, force: true });
      return;
    }
    if (t !== undefined && body.attempt !== undefined) t.attempt = Math.max(t.attempt ?? 0, body.attempt);
    const why = body.reason ?? `${action} requested`;
    if (action === LifecycleAction.Stop) {
      background.run(this.stopApp(deploymentId, t, body.attempt, why), 'stop an app', deploymentId);
    } else if (action === LifecycleAction.Start && t !== undefined) {
      outbox.publish(t, DeploymentStatus.Running, { message: `already running on ${nodeId}`, force: true });
    } else {
      background.run(this.restartApp(deploymentId, t, body.attempt, why), `${action} an app`, deploymentId);
    }
  }

  /** Stops a running app and keeps what was built; reports Stopped. The stop is no crash: its events are not counted. */
  private async stopApp(deploymentId: string, t: Tracked | undefined, attempt: number | undefined, why: string): Promise<void> {
    const { deployments, outbox } = this.options;
    if (t !== undefined) {
      deployments.unwatch(deploymentId);
      t.phase = 'destroying';
    }
    try {
      await this.options.deployer.stopApp(deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      this.options.report.fail(failure, 'stop an app', deploymentId);
      if (t === undefined) {
        outbox.send({ deploymentId, status: DeploymentStatus.Errored, message: `could not stop it: ${failure.message}`, ...(attempt === undefined ? {} : { attempt }) });
      } else {
        t.phase = 'running';
        deployments.watchRunning(t);
        outbox.publish(t, DeploymentStatus.Running, { message: `could not stop it: ${failure.message}; it keeps running`, force: true });
      }
      return;
    }
    const message = `stopped on ${this.options.nodeId} (${why}); its ${this.options.runtime === Runtime.Docker ? 'container and image are' : 'built folder is'} kept for a start without a build`;
    if (t === undefined) {
      outbox.send({ deploymentId, status: DeploymentStatus.Stopped, message, ...(attempt === undefined ? {} : { attempt }) });
      return;
    }
    t.logs.push('system', message, this.now());
    outbox.publish(t, DeploymentStatus.Stopped, { message });
    await deployments.untrack(t);
  }

  /**
   * Restarts an app in place without a build: stops it when it runs, then starts it from what was
   * built, and follows it again. A start, too, is this with nothing running. A start that fails
   * leaves the app stopped and says why.
   */
  private async restartApp(deploymentId: string, running: Tracked | undefined, attempt: number | undefined, why: string): Promise<void> {
    const { deployments, outbox, deployer, nodeId } = this.options;
    if (running !== undefined) {
      deployments.unwatch(deploymentId);
      running.follower?.stop();
      running.follower = undefined;
      await deployments.untrack(running);
    }
    const t = deployments.track(deploymentId, 'deploying', DeploymentStatus.Deploying);
    t.attempt = attempt ?? running?.attempt;
    t.logs.push('system', `${running === undefined ? 'starting' : 'restarting'} on ${nodeId} without a build (${why})`, this.now());
    const startedAt = this.now();
    let started;
    try {
      if (running !== undefined) await deployer.stopApp(deploymentId);
      started = await deployer.startApp(deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      this.options.logger.warn('start without a build failed; the app stays stopped', { deploymentId, error: failure });
      t.logs.push('system', `could not start it: ${failure.message}`, this.now());
      outbox.publish(t, DeploymentStatus.Stopped, { message: `could not start it: ${failure.message}`, errorCode: failure.code, force: true });
      await deployments.untrack(t);
      return;
    }
    if (this.options.stopped()) return;
    t.commit = /^[0-9a-f]{7,64}$/.test(started.commit) ? started.commit : undefined;
    t.port = started.hostPort;
    t.url = started.hostPort === undefined ? undefined : deployments.urlFor(started.hostPort);
    t.phase = 'running';
    deployments.watchRunning(t);
    outbox.publish(t, DeploymentStatus.Running, { message: `${running === undefined ? 'started' : 'restarted'} without a build`, force: true });
    await this.options.logs.follow(t, startedAt);
  }

  // ---- watching running apps ----------------------------------------------------------------

  /** A running app stopped answering on its port, or answers again: said, so the ingress follows. */
  onReadiness(deploymentId: string, readiness: AppReadiness, message: string): void {
    const t = this.options.deployments.get(deploymentId);
    if (t === undefined || !this.options.deployments.stillRunning(t)) return;
    t.logs.push('system', message, this.now());
    this.options.outbox.publish(t, DeploymentStatus.Running, { message, force: true, readiness });
  }

  /** The runtime restarted a running app, or it recovered: say so; or it keeps crashing: end it. */
  onRestartVerdict(deploymentId: string, verdict: RestartVerdict): void {
    const t = this.options.deployments.get(deploymentId);
    if (t === undefined || !this.options.deployments.stillRunning(t)) return;
    if (verdict.kind === 'report') {
      t.logs.push('system', verdict.message, this.now());
      this.options.outbox.publish(t, DeploymentStatus.Running, { message: verdict.message, force: true });
      return;
    }
    this.options.background.run(this.giveUp(t, verdict.reason, verdict.restarts), 'stop a crash-looping app', deploymentId);
  }

  /** Stops an app that kept crashing and reports it Errored with the reason and its restarts. */
  private async giveUp(t: Tracked, reason: string, restarts: AppRestarts): Promise<void> {
    this.options.logger.warn('stopping a crash-looping app', { deploymentId: t.deploymentId, reason, restarts: restarts.count });
    t.phase = 'destroying';
    t.logs.push('system', reason, this.now());
    let message = reason;
    const failure = await this.remove(t.deploymentId);
    if (failure !== undefined) {
      this.options.report.fail(failure, 'stop a crash-looping app', t.deploymentId);
      message = `${reason}, but could not stop it: ${failure.message}`;
    }
    this.options.report.counters.deploysFailed++;
    this.options.outbox.publish(t, DeploymentStatus.Errored, { message, errorCode: ErrorCode.CrashLoop, restarts });
    await this.options.deployments.untrack(t);
  }

  /** Stops and removes an app; one that is gone already counts as removed. Resolves to what kept it from going. */
  private async remove(deploymentId: string): Promise<KrakenError | undefined> {
    try {
      await this.options.deployer.stop(deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code !== ErrorCode.NotFound) return failure;
    }
    return undefined;
  }

  private now(): Date {
    return new Date(this.options.clock.now());
  }
}
