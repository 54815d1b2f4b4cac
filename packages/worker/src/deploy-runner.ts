import { toKrakenError } from '@kraken/common';
import type { DeployRequestBody, Runtime } from '@kraken/messages';
import { DeploymentStatus, deploymentStatusOrder, isTerminalStatus, redeployFailedMessage } from '@kraken/messages';
import type { DeployProgress } from '@kraken/runtime';
import type { AppLifecycle } from './app-lifecycle.js';
import type { Background } from './background.js';
import type { Deployer } from './deployer.js';
import type { FailoverBuilds } from './failover-builds.js';
import type { LogCursorStore } from './log-cursors.js';
import type { LogFollowing } from './log-following.js';
import type { Slots } from './slots.js';
import { statusOfStep } from './status-map.js';
import type { StatusOutbox } from './status-outbox.js';
import type { Tracked, TrackedDeployments } from './tracked.js';
import { describePhase } from './tracked.js';
import type { WorkerPart } from './worker-events.js';

export interface DeployRunnerOptions extends WorkerPart {
  runtime: Runtime;
  deployer: Pick<Deployer, 'deploy' | 'list'>;
  slots: Slots;
  failover: Pick<FailoverBuilds, 'drop'>;
  deployments: TrackedDeployments;
  logs: Pick<LogFollowing, 'follow'>;
  /** Removes what a cancelled deploy made. */
  lifecycle: Pick<AppLifecycle, 'destroy' | 'finishDestroyed'>;
  outbox: Pick<StatusOutbox, 'publish' | 'publishUntracked'>;
  logCursors: Pick<LogCursorStore, 'load' | 'forget'>;
  background: Pick<Background, 'run'>;
  stopped: () => boolean;
}

const statusRank = (status: DeploymentStatus): number => deploymentStatusOrder.indexOf(status);

/**
 * Runs the deploy requests the orchestrator sends this node, and takes over at start what the node
 * already runs. Every deploy waits for a slot, reports each step, and ends running (its log
 * followed) or reported Errored/Destroyed and let go.
 */
export class DeployRunner {
  constructor(private readonly options: DeployRunnerOptions) {}

  request(body: DeployRequestBody): Promise<void> {
    const { deployments, outbox, report, logger, nodeId, runtime } = this.options;
    const { deploymentId } = body;
    // the deployment comes here: what was built for that is used through fromKept, not reported
    this.options.failover.drop(deploymentId);
    const existing = deployments.get(deploymentId);
    if (existing && (existing.phase === 'destroying' || existing.cancelled)) {
      // the orchestrator stopped it and then placed it here again (a node back from the dead):
      // a later request wins, so it deploys again once the destroy has finished
      logger.info('deploy request while destroying; it runs once the destroy ends', { deploymentId });
      existing.deployAfterDestroy = body;
      return Promise.resolve();
    }
    if (existing && body.replace === true && body.attempt > (existing.attempt ?? 0)) {
      // a redeploy of a deployment this node holds: the branch head (or settings) again, from scratch
      existing.attempt = body.attempt;
      if (existing.phase === 'running') {
        this.options.background.run(this.replace(existing, body), 'redeploy', deploymentId);
      } else {
        logger.info('redeploy requested while deploying; it runs once the current deploy is up', { deploymentId });
        existing.redeployAfterDeploy = body;
      }
      return Promise.resolve();
    }
    if (existing && isTerminalStatus(existing.status)) {
      // its deploy just ended (Errored) and it is being let go: that status, with its reason, stands
      // for this attempt (answering it again would put "already ..." in place of the reason); a
      // newer attempt (placed again with another port) deploys once it is gone
      if (body.attempt > (existing.attempt ?? 0)) existing.deployAfterDestroy = body;
      report.counters.duplicateRequests++;
      logger.info('deploy request for a deployment whose deploy just ended here', { deploymentId, status: existing.status, attempt: body.attempt });
      return Promise.resolve();
    }
    if (existing) {
      // the same work again (a re-send, or a node back from the dead given its app back): its
      // status answers, counted towards the newest attempt so the orchestrator takes it
      existing.attempt = Math.max(existing.attempt ?? 0, body.attempt);
      report.counters.duplicateRequests++;
      logger.info('deploy request for a deployment already held; reporting its status instead', { deploymentId, phase: existing.phase });
      report.emit('duplicate-request', { deploymentId, status: existing.status });
      outbox.publish(existing, existing.status, { message: `already ${describePhase(existing.phase)} on ${nodeId}`, force: true });
      return Promise.resolve();
    }
    if (body.runtime !== undefined && body.runtime !== runtime) {
      outbox.publishUntracked(deploymentId, DeploymentStatus.Errored, `worker ${nodeId} runs applications in ${runtime} only, not ${body.runtime}`);
      return Promise.resolve();
    }
    const t = deployments.track(deploymentId, 'queued', DeploymentStatus.DeploymentRequested);
    t.attempt = body.attempt;
    // runDeploy reports ValidatingDeploymentData at once, saying what it waits for when it waits
    this.options.background.run(this.runDeploy(t, body), 'deploy', deploymentId);
    return Promise.resolve();
  }

  private async runDeploy(t: Tracked, body: DeployRequestBody): Promise<void> {
    const { deployments, outbox, report, logger, slots } = this.options;
    const { deploymentId } = t;
    const ticket = slots.acquire(deploymentId);
    t.ticket = ticket;
    // waiting work says what it waits for, rather than sitting in its first status unexplained (a
    // redeploy has said ValidatingDeploymentData already: without a wait, nothing more is sent)
    if (ticket.waiting) outbox.publish(t, DeploymentStatus.ValidatingDeploymentData, { message: queuedMessage(slots), force: true });
    else outbox.publish(t, DeploymentStatus.ValidatingDeploymentData, {});
    const held = await ticket.ready;
    if (!held || t.cancelled || this.options.stopped()) {
      ticket.release();
      if (!this.options.stopped()) await this.options.lifecycle.finishDestroyed(t, 'cancelled before the deploy started');
      return;
    }
    t.phase = 'deploying';
    report.counters.deploysStarted++;
    let runStartedAt: Date | undefined;
    let result;
    try {
      result = await this.options.deployer.deploy({
        deploymentId,
        url: body.srcUrl,
        branch: body.branch,
        ...(body.port === undefined ? {} : { hostPort: body.port }),
        ...(body.env === undefined ? {} : { env: body.env }),
        ...(body.commit === undefined ? {} : { commit: body.commit }),
        ...(body.limits === undefined ? {} : { limits: body.limits }),
        ...(body.replace === true ? { replace: true } : {}),
        ...(body.fromKept === true ? { fromKept: true } : {}),
        onProgress: (event) => {
          if (event.kind === 'start' && event.step === 'run') runStartedAt = event.at;
          // The slot bounds clone and build, which share the CPU and the disk. A test or a start
          // may take minutes (a hung test its whole time limit) and must not hold up other deploys.
          if (event.kind === 'start' && (event.step === 'test' || event.step === 'run')) ticket.release();
          this.onProgress(t, event);
        },
      });
    } catch (error) {
      const failure = toKrakenError(error);
      if (this.options.stopped()) return;
      if (isCancelled(t)) {
        // a cancelled redeploy may leave the version it was replacing: stop whatever runs
        if (body.replace === true) await this.options.lifecycle.destroy(t);
        else await this.options.lifecycle.finishDestroyed(t, `the deploy ended (${failure.message}); nothing is left running`);
      } else if (body.replace === true && (await this.deployerStillRuns(deploymentId))) {
        // a failed redeploy that did not reach the swap: the previous version still serves
        report.counters.deploysFailed++;
        logger.warn('redeploy failed; the previous version keeps running', { deploymentId, error: failure });
        t.phase = 'running';
        deployments.watchRunning(t);
        const previous = t.commit === undefined ? 'the previous version' : `the previous version (${t.commit.slice(0, 7)})`;
        outbox.publish(t, DeploymentStatus.Running, { message: redeployFailedMessage(failure.message, previous), force: true });
        if (t.follower === undefined) this.options.background.run(this.options.logs.follow(t, this.now()), 'follow logs', deploymentId);
      } else {
        report.counters.deploysFailed++;
        logger.warn('deploy failed', { deploymentId, error: failure });
        const hostPort = failure.details?.['hostPort'];
        outbox.publish(t, DeploymentStatus.Errored, {
          message: failure.message,
          errorCode: failure.code,
          ...(typeof hostPort === 'number' ? { port: hostPort } : {}),
        });
        await deployments.untrack(t);
      }
      return;
    } finally {
      ticket.release();
      t.ticket = undefined;
    }
    if (this.options.stopped()) return;
    report.counters.deploysSucceeded++;
    if (isCancelled(t)) {
      await this.options.lifecycle.destroy(t);
      return;
    }
    if (body.commit !== undefined && !result.commit.startsWith(body.commit)) {
      // a runtime that cannot check out a given commit deploys the branch head; say so rather than hide it
      t.logs.push('system', `requested commit ${body.commit} but deployed ${result.commit}`, this.now());
    }
    t.commit = result.commit;
    t.port = result.hostPort;
    t.url = result.hostPort === undefined ? undefined : deployments.urlFor(result.hostPort);
    t.phase = 'running';
    // a replaced app's follower read the old container, which is gone
    t.follower?.stop();
    t.follower = undefined;
    const redeploy = t.redeployAfterDeploy;
    if (redeploy !== undefined) {
      t.redeployAfterDeploy = undefined;
      await this.replace(t, redeploy);
      return;
    }
    deployments.watchRunning(t);
    outbox.publish(t, DeploymentStatus.Running, { message: runningMessage(result) });
    // from the container's start: lines it printed before the follower attached are not lost
    await this.options.logs.follow(t, runStartedAt ?? this.now());
  }

  /**
   * Redeploys a running deployment: the deployer builds the request afresh and swaps it for the
   * running app (the Docker runtime keeps the old one serving until the new one is built and
   * tested). Its logs and stats carry on from the old app until the new one runs.
   */
  private async replace(t: Tracked, body: DeployRequestBody): Promise<void> {
    this.options.logger.info('redeploying: replacing the running deployment', { deploymentId: t.deploymentId, attempt: body.attempt });
    t.phase = 'queued';
    t.status = DeploymentStatus.DeploymentRequested;
    // the old version's stop and the new one's start are not restarts
    this.options.deployments.unwatch(t.deploymentId);
    this.options.outbox.publish(t, DeploymentStatus.ValidatingDeploymentData, { message: `redeploying (attempt ${String(body.attempt)})` });
    await this.runDeploy(t, { ...body, replace: true });
  }

  /** Whether the deployer still runs this deployment (after a failed redeploy, the old version may). */
  private async deployerStillRuns(deploymentId: string): Promise<boolean> {
    try {
      return (await this.options.deployer.list()).some((found) => found.deploymentId === deploymentId && found.state === 'running');
    } catch (error) {
      this.options.report.fail(error, 'list deployments after a failed redeploy', deploymentId);
      return false;
    }
  }

  private onProgress(t: Tracked, event: DeployProgress): void {
    if (event.kind === 'line') {
      t.logs.push(event.stream, event.text, event.at);
      return;
    }
    if (event.kind !== 'start' || t.cancelled) return;
    const status = statusOfStep(event.step);
    if (status !== undefined && statusRank(status) > statusRank(t.status)) this.options.outbox.publish(t, status, {});
  }

  /** Takes over the apps the node runs at start (after an agent restart) without deploying them again. */
  async reconcile(): Promise<void> {
    const { deployments, report, logger, logCursors } = this.options;
    let found;
    try {
      found = await this.options.deployer.list();
    } catch (error) {
      // an engine that is down at start must not keep the worker from taking commands
      report.fail(error, 'list deployments to reconcile');
      return;
    }
    const cursors = await logCursors.load().catch((error: unknown) => {
      report.fail(error, 'read the log cursors');
      return new Map<string, string>();
    });
    const taken: string[] = [];
    for (const deployment of found) {
      if (deployment.state !== 'running' && deployment.state !== 'restarting') {
        logger.info('leaving a stopped container alone; a new deploy or a stop removes it', { deploymentId: deployment.deploymentId, state: deployment.state });
        continue;
      }
      if (deployments.has(deployment.deploymentId)) continue;
      const t = deployments.track(deployment.deploymentId, 'running', DeploymentStatus.Running);
      t.commit = /^[0-9a-f]{7,64}$/.test(deployment.commit) ? deployment.commit : undefined;
      t.port = deployment.hostPort;
      t.url = deployment.hostPort === undefined ? undefined : deployments.urlFor(deployment.hostPort);
      deployments.watchRunning(t);
      this.options.outbox.publish(t, DeploymentStatus.Running, { message: 'found running after a worker restart', force: true });
      // right after the last line the broker confirmed to the previous instance, when it said;
      // else from now (its earlier lines were sent, the ones of the outage are lost)
      t.lastCursor = cursors.get(t.deploymentId);
      this.options.background.run(this.options.logs.follow(t, this.now()), 'follow logs', t.deploymentId);
      taken.push(deployment.deploymentId);
    }
    // cursors of apps that are gone (stopped while no agent ran) would only pile up
    for (const deploymentId of cursors.keys()) if (!deployments.has(deploymentId)) await logCursors.forget(deploymentId);
    if (taken.length > 0) logger.info('took over running deployments', { deployments: taken });
    report.emit('reconciled', taken);
  }

  private now(): Date {
    return new Date(this.options.clock.now());
  }
}

function isCancelled(t: Tracked): boolean {
  return t.cancelled;
}

/** "queued behind app-1 and 2 more waiting; this node runs 1 deploy at a time (maxConcurrentDeploys)", for a ticket just put in line. */
function queuedMessage(slots: Slots): string {
  const ahead = slots.queued - 1;
  const more = ahead > 0 ? ` and ${ahead} more waiting` : '';
  const limit = slots.size === 1 ? '1 deploy at a time' : `${slots.size} deploys at a time`;
  return `queued behind ${slots.holders.join(', ')}${more}; this node runs ${limit} (maxConcurrentDeploys)`;
}

/** What a Running status says about how the deploy got there, when it was not a plain build. */
function runningMessage(result: { reused: boolean; buildReused?: boolean; fromKept?: boolean; commit: string }): string | undefined {
  if (result.reused) return 'already running on this node; reused its container';
  if (result.buildReused === true) return `restarted with the changed settings from the build of ${result.commit.slice(0, 7)}; nothing was rebuilt`;
  if (result.fromKept === true) return `running the kept build of ${result.commit.slice(0, 7)}; nothing was rebuilt`;
  if (result.fromKept === false) return `no build of ${result.commit.slice(0, 7)} was kept on this node; it was built again`;
  return undefined;
}
