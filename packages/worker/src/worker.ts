import type { Broker, Delivery, Subscription } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { ErrorCode, TypedEmitter, systemClock, toKrakenError } from '@kraken/common';
import type { DeployProgress } from '@kraken/docker-deployer';
import type { AppReadiness, AppRestarts, DeployCancelBody, DeployLifecycleBody, DeployPrepareBody, DeployRequestBody, Message } from '@kraken/messages';
import { DeliveryClass, DeploymentStatus, LifecycleAction, MessageType, Runtime, deploymentStatusOrder, redeployFailedMessage } from '@kraken/messages';
import { Background } from './background.js';
import { CrashWatch } from './crash-watch.js';
import type { Deployer, EngineProbe } from './deployer.js';
import { FailoverBuilds } from './failover-builds.js';
import { LogFollowing } from './log-following.js';
import type { ReadyProbe } from './ready-watch.js';
import { ReadyWatch, httpProbe } from './ready-watch.js';
import type { LogCursorStore } from './log-cursors.js';
import { noLogCursors } from './log-cursors.js';
import type { NodeInfoExtensionsProvider } from './node-info-extensions.js';
import type { CompiledWorkerOptions, WorkerOptions } from './options.js';
import { compileWorkerOptions } from './options.js';
import { Slots } from './slots.js';
import type { RestartVerdict } from './restarts.js';
import { statusOfStep } from './status-map.js';
import type { SystemProbe } from './system-probe.js';
import { OsSystemProbe } from './system-probe.js';
import { StatusOutbox } from './status-outbox.js';
import { TelemetryLoop } from './telemetry-loop.js';
import type { Tracked } from './tracked.js';
import { TrackedDeployments, describePhase } from './tracked.js';
import type { IgnoredReason, WorkerEvents, WorkerReport, WorkerStats } from './worker-events.js';
import { zeroStats } from './worker-events.js';

export type { IgnoredReason, WorkerEvents, WorkerStats } from './worker-events.js';


export interface WorkerCreateOptions {
  broker: Broker;
  deployer: Deployer;
  nodeId: string;
  logger: Logger;
  /** @default the real machine (node:os) */
  probe?: SystemProbe;
  /** Answers when the container engine is up (dockerode client). @default deployer.list() as the ping */
  engine?: EngineProbe;
  /** @default systemClock */
  clock?: Clock;
  /**
   * Adds `extensions` to every node.info (an add-on's readings, e.g. a temperature). A provider
   * that throws, takes longer than `options.nodeInfoExtensionsTimeout` or returns values the
   * protocol refuses is logged, and that heartbeat goes out without extensions.
   */
  nodeInfoExtensions?: NodeInfoExtensionsProvider;
  /**
   * Where the worker remembers how far the broker confirmed each app's log, so that after a crash
   * it resumes each log there (FileLogCursorStore in the agent's data dir). @default none: apps
   * taken over after a restart are followed from then on
   */
  logCursors?: LogCursorStore;
  /** How a running app is checked for an HTTP answer on its port. @default httpProbe (GET / on 127.0.0.1) */
  readyProbe?: ReadyProbe;
  options?: WorkerOptions;
}

const statusRank = (status: DeploymentStatus): number => deploymentStatusOrder.indexOf(status);

/**
 * One node's executor: takes deploy/cancel/stop commands from its own queue, runs them through a
 * Deployer, and reports status, heartbeats, logs and stats to the orchestrator. Nothing it does
 * for one deployment can stop it or another deployment: every failure becomes an Errored status,
 * a log line and a `failure` event.
 */
export class Worker extends TypedEmitter<WorkerEvents> {
  readonly nodeId: string;
  private readonly broker: Broker;
  private readonly deployer: Deployer;
  private readonly logger: Logger;
  private readonly runtime: Runtime;
  private readonly clock: Clock;
  private readonly options: CompiledWorkerOptions;
  private readonly slots: Slots;
  /** Builds of deployments that run elsewhere, made here ahead of a move while no deploy needs the slots. */
  private readonly failover: FailoverBuilds;
  private readonly crashWatch: CrashWatch;
  private readonly readyWatch: ReadyWatch;
  private readonly logCursors: LogCursorStore;
  private readonly tracked: TrackedDeployments;
  private readonly logs: LogFollowing;
  private readonly telemetry: TelemetryLoop;
  private readonly background: Background;
  private readonly outbox: StatusOutbox;
  private readonly counters = zeroStats();
  private subscription: Subscription | undefined;
  private highestEpoch = 0;
  private stopped = false;

  private constructor(create: WorkerCreateOptions) {
    super();
    this.nodeId = create.nodeId;
    const report: WorkerReport = {
      counters: this.counters,
      emit: (event, ...args) => {
        this.emit(event, ...args);
      },
      fail: (error, during, deploymentId) => {
        this.fail(error, during, deploymentId);
      },
    };
    this.background = new Background(report.fail);
    this.options = compileWorkerOptions(create.nodeId, create.options);
    this.broker = create.broker;
    this.deployer = create.deployer;
    this.logger = create.logger.child({ component: 'worker', nodeId: create.nodeId });
    this.runtime = create.deployer.runtime ?? Runtime.Docker;
    this.clock = create.clock ?? systemClock;
    this.logCursors = create.logCursors ?? noLogCursors;
    this.slots = new Slots(this.options.maxConcurrentDeploys, () => {
      this.failover.poke();
    });
    this.failover = new FailoverBuilds({ deployer: this.deployer, mayStart: () => this.slots.idle, logger: this.logger });
    this.crashWatch = new CrashWatch({
      deployer: this.deployer,
      policy: this.options.crashLoop,
      clock: this.clock,
      logger: this.logger,
      rewatchDelayMs: this.options.logRefollowDelayMs,
      onVerdict: (deploymentId, verdict) => {
        this.onRestartVerdict(deploymentId, verdict);
      },
      onError: (error, during) => {
        this.fail(error, during);
      },
    });
    this.outbox = new StatusOutbox({
      broker: this.broker,
      queues: this.options.queues,
      nodeId: this.nodeId,
      clock: this.clock,
      logger: this.logger,
      report,
      epoch: () => this.highestEpoch,
      restartsOf: (deploymentId) => this.crashWatch.restartsOf(deploymentId),
      readinessOf: (deploymentId) => this.readyWatch.readinessOf(deploymentId),
    });
    this.readyWatch = new ReadyWatch({
      policy: this.options.ready,
      clock: this.clock,
      probe: create.readyProbe ?? httpProbe,
      isRestarting: (deploymentId) => this.crashWatch.restartsOf(deploymentId)?.looping === true,
      onChange: (deploymentId, readiness, message) => {
        this.onReadiness(deploymentId, readiness, message);
      },
    });
    const stopped = (): boolean => this.stopped;
    this.tracked = new TrackedDeployments({
      openLogs: (deploymentId) => this.logs.open(deploymentId),
      crashWatch: this.crashWatch,
      readyWatch: this.readyWatch,
      logCursors: this.logCursors,
      requestAgain: (body) => this.onRequest(body),
      stopped,
      host: () => this.options.publicHost ?? this.telemetry.addresses[0] ?? '127.0.0.1',
    });
    const parts = { nodeId: this.nodeId, deployer: this.deployer, outbox: this.outbox, deployments: this.tracked, background: this.background, report, clock: this.clock, logger: this.logger, stopped };
    this.logs = new LogFollowing({ ...parts, settings: this.options, logCursors: this.logCursors });
    this.telemetry = new TelemetryLoop({
      ...parts,
      settings: this.options,
      probe: create.probe ?? new OsSystemProbe(),
      engine: create.engine ?? { ping: () => create.deployer.list() },
      runtime: this.runtime,
      extensionsProvider: create.nodeInfoExtensions,
      failoverBuilds: () => this.failover.list(),
    });
  }

  /**
   * Declares the queues, takes over the deployments this node already runs (after an agent
   * restart), then starts consuming commands and heartbeating.
   */
  static async create(options: WorkerCreateOptions): Promise<Worker> {
    const worker = new Worker(options);
    await worker.start();
    return worker;
  }

  private async start(): Promise<void> {
    const { queues } = this.options;
    await this.broker.declareQueue(queues.node, { class: DeliveryClass.Durable });
    await this.broker.declareQueue(queues.orchestrator, { class: DeliveryClass.Durable });
    await this.broker.declareQueue(queues.telemetry, { class: DeliveryClass.Telemetry });
    await this.crashWatch.start();
    // before consuming, so a redelivered request for a running deployment finds it tracked
    await this.reconcile();
    this.subscription = await this.broker.consume(queues.node, (delivery) => this.handleCommand(delivery));
    this.telemetry.start();
    this.logger.info('worker started', { queue: queues.node, maxConcurrentDeploys: this.options.maxConcurrentDeploys });
  }

  /**
   * Stops taking commands and stops heartbeats, log followers and timers; waits for statuses and
   * logs already on their way. Leaves app containers running (a restarted worker takes them over)
   * and leaves the injected broker open. Deploys in flight report nothing further: closing the
   * deployer after this ends them, and the orchestrator sends them again. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.crashWatch.stop();
    this.readyWatch.stop();
    this.failover.stop();
    await this.subscription?.cancel().catch((error: unknown) => {
      this.fail(error, 'stop consuming');
    });
    this.telemetry.stop();
    this.background.stop();
    const inFlight = this.tracked.values().filter((t) => t.phase === 'queued' || t.phase === 'deploying').map((t) => t.deploymentId);
    // handed back, not finished: the deployer's close ends their steps, their records keep the
    // status they reached, and the orchestrator sends them again (here once this node is back, or
    // elsewhere should it stay away)
    if (inFlight.length > 0) this.logger.info('handing back deploys in flight: the orchestrator sends them again', { deployments: inFlight });
    for (const t of this.tracked.values()) {
      t.follower?.stop();
      t.ticket?.release();
    }
    await Promise.all(this.tracked.values().map((t) => t.logs.close()));
    await this.logCursors.flush();
    await this.telemetry.settled();
    await this.outbox.flushed();
    await this.telemetry.sayStopping();
    this.logger.info('worker stopped', { deployments: this.tracked.size });
  }

  stats(): WorkerStats {
    return { ...this.counters };
  }

  /** The deployments this worker holds and their last reported status. */
  deployments(): { deploymentId: string; status: DeploymentStatus }[] {
    return this.tracked.values().map((t) => ({ deploymentId: t.deploymentId, status: t.status }));
  }

  /**
   * Paces app stats by whether anyone watches the cluster (the leader says so): while someone
   * does, every statsInterval, and a sample goes out at once so what they look at is fresh; while
   * nobody does, every idleStatsInterval. Until told, the worker assumes someone watches.
   */
  setWatched(watched: boolean): void {
    this.telemetry.setWatched(watched);
  }

  // ---- commands -------------------------------------------------------------------------------

  private async handleCommand(delivery: Delivery): Promise<void> {
    const message = delivery.message;
    if (this.stopped) {
      // another instance (after a restart) will get it
      delivery.nack({ requeue: true });
      return;
    }
    if (
      message.type !== MessageType.DeployRequest &&
      message.type !== MessageType.DeployCancel &&
      message.type !== MessageType.DeployStop &&
      message.type !== MessageType.DeployLifecycle &&
      message.type !== MessageType.DeployPrepare &&
      message.type !== MessageType.LeaderElected
    ) {
      this.ignore(message, 'unexpected-type');
      delivery.nack({ requeue: false, reason: `worker ${this.nodeId} takes deploy.request, deploy.cancel, deploy.stop, deploy.lifecycle, deploy.prepare and leader.elected, not ${message.type}` });
      return;
    }
    if (message.epoch < this.highestEpoch) {
      this.counters.staleCommandsIgnored++;
      this.ignore(message, 'stale-epoch');
      return;
    }
    this.highestEpoch = message.epoch;
    if (message.type === MessageType.LeaderElected) {
      this.logger.info('a new leader was elected: commands of earlier epochs are refused from now on', { leader: message.body.leaderId, epoch: message.epoch });
      return;
    }
    this.counters.commandsHandled++;
    // The handler only starts the work, so the delivery is acked at once and a cancel can arrive
    // while a build runs. A worker that dies mid-build loses the request; the orchestrator sees
    // the deployment missing from heartbeats and redeploys it.
    try {
      if (message.type === MessageType.DeployRequest) await this.onRequest(message.body);
      else if (message.type === MessageType.DeployLifecycle) this.onLifecycle(message.body);
      else if (message.type === MessageType.DeployPrepare) this.onPrepare(message.body);
      else await this.onDestroy(message.body, message.type);
    } catch (error) {
      this.fail(error, `handle ${message.type}`, message.body.deploymentId);
    }
  }

  private ignore(message: Message, reason: IgnoredReason): void {
    this.logger.warn('command ignored', { type: message.type, messageId: message.id, epoch: message.epoch, highestEpoch: this.highestEpoch, reason });
    this.emit('command-ignored', { type: message.type, messageId: message.id, epoch: message.epoch, highestEpoch: this.highestEpoch, reason });
  }

  private onRequest(body: DeployRequestBody): Promise<void> {
    const { deploymentId } = body;
    // the deployment comes here: what was built for that is used through fromKept, not reported
    this.failover.drop(deploymentId);
    const existing = this.tracked.get(deploymentId);
    if (existing && (existing.phase === 'destroying' || existing.cancelled)) {
      // the orchestrator stopped it and then placed it here again (a node back from the dead):
      // a later request wins, so it deploys again once the destroy has finished
      this.logger.info('deploy request while destroying; it runs once the destroy ends', { deploymentId });
      existing.deployAfterDestroy = body;
      return Promise.resolve();
    }
    if (existing && body.replace === true && body.attempt > (existing.attempt ?? 0)) {
      // a redeploy of a deployment this node holds: the branch head (or settings) again, from scratch
      existing.attempt = body.attempt;
      if (existing.phase === 'running') {
        this.background.run(this.replace(existing, body), 'redeploy', deploymentId);
      } else {
        this.logger.info('redeploy requested while deploying; it runs once the current deploy is up', { deploymentId });
        existing.redeployAfterDeploy = body;
      }
      return Promise.resolve();
    }
    if (existing) {
      // the same work again (a re-send, or a node back from the dead given its app back): its
      // status answers, counted towards the newest attempt so the orchestrator takes it
      existing.attempt = Math.max(existing.attempt ?? 0, body.attempt);
      this.counters.duplicateRequests++;
      this.logger.info('deploy request for a deployment already held; reporting its status instead', { deploymentId, phase: existing.phase });
      this.emit('duplicate-request', { deploymentId, status: existing.status });
      this.outbox.publish(existing, existing.status, { message: `already ${describePhase(existing.phase)} on ${this.nodeId}`, force: true });
      return Promise.resolve();
    }
    if (body.runtime !== undefined && body.runtime !== this.runtime) {
      this.outbox.publishUntracked(deploymentId, DeploymentStatus.Errored, `worker ${this.nodeId} runs applications in ${this.runtime} only, not ${body.runtime}`);
      return Promise.resolve();
    }
    const t = this.tracked.track(deploymentId, 'queued', DeploymentStatus.DeploymentRequested);
    t.attempt = body.attempt;
    // runDeploy reports ValidatingDeploymentData at once, saying what it waits for when it waits
    this.background.run(this.runDeploy(t, body), 'deploy', deploymentId);
    return Promise.resolve();
  }

  /**
   * A failover build of a deployment that runs elsewhere, or (`forget`) freeing it. A deployment
   * that runs or deploys here needs none, and what it keeps is its own deploys' to free.
   */
  private onPrepare(body: DeployPrepareBody): void {
    const { deploymentId, srcUrl, branch, commit } = body;
    const here = this.tracked.has(deploymentId);
    if (body.forget === true) {
      if (here) this.failover.drop(deploymentId);
      else this.background.run(this.failover.forget(deploymentId), 'forget a failover build', deploymentId);
      return;
    }
    if (here) {
      this.logger.debug('failover build asked for a deployment that runs or deploys here; ignored', { deploymentId });
      return;
    }
    // the message schema requires them unless forget is set
    if (srcUrl === undefined || branch === undefined || commit === undefined) return;
    if (body.runtime !== undefined && body.runtime !== this.runtime) {
      this.failover.refuse(deploymentId, commit, `worker ${this.nodeId} runs applications in ${this.runtime} only, not ${body.runtime}`);
      return;
    }
    this.failover.request({ deploymentId, url: srcUrl, branch, commit, ...(body.env === undefined ? {} : { env: body.env }) });
  }

  private async runDeploy(t: Tracked, body: DeployRequestBody): Promise<void> {
    const { deploymentId } = t;
    const ticket = this.slots.acquire(deploymentId);
    t.ticket = ticket;
    // waiting work says what it waits for, rather than sitting in its first status unexplained (a
    // redeploy has said ValidatingDeploymentData already: without a wait, nothing more is sent)
    if (ticket.waiting) this.outbox.publish(t, DeploymentStatus.ValidatingDeploymentData, { message: queuedMessage(this.slots), force: true });
    else this.outbox.publish(t, DeploymentStatus.ValidatingDeploymentData, {});
    const held = await ticket.ready;
    if (!held || t.cancelled || this.stopped) {
      ticket.release();
      if (!this.stopped) await this.finishDestroyed(t, 'cancelled before the deploy started');
      return;
    }
    t.phase = 'deploying';
    this.counters.deploysStarted++;
    let runStartedAt: Date | undefined;
    let result;
    try {
      result = await this.deployer.deploy({
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
      if (this.isStopped()) return;
      if (isCancelled(t)) {
        // a cancelled redeploy may leave the version it was replacing: stop whatever runs
        if (body.replace === true) await this.destroy(t);
        else await this.finishDestroyed(t, `the deploy ended (${failure.message}); nothing is left running`);
      } else if (body.replace === true && (await this.deployerStillRuns(deploymentId))) {
        // a failed redeploy that did not reach the swap: the previous version still serves
        this.counters.deploysFailed++;
        this.logger.warn('redeploy failed; the previous version keeps running', { deploymentId, error: failure });
        t.phase = 'running';
        this.tracked.watchRunning(t);
        const previous = t.commit === undefined ? 'the previous version' : `the previous version (${t.commit.slice(0, 7)})`;
        this.outbox.publish(t, DeploymentStatus.Running, { message: redeployFailedMessage(failure.message, previous), force: true });
        if (t.follower === undefined) this.background.run(this.logs.follow(t, this.now()), 'follow logs', deploymentId);
      } else {
        this.counters.deploysFailed++;
        this.logger.warn('deploy failed', { deploymentId, error: failure });
        const hostPort = failure.details?.['hostPort'];
        this.outbox.publish(t, DeploymentStatus.Errored, {
          message: failure.message,
          errorCode: failure.code,
          ...(typeof hostPort === 'number' ? { port: hostPort } : {}),
        });
        await this.tracked.untrack(t);
      }
      return;
    } finally {
      ticket.release();
      t.ticket = undefined;
    }
    if (this.isStopped()) return;
    this.counters.deploysSucceeded++;
    if (isCancelled(t)) {
      await this.destroy(t);
      return;
    }
    if (body.commit !== undefined && !result.commit.startsWith(body.commit)) {
      // a runtime that cannot check out a given commit deploys the branch head; say so rather than hide it
      t.logs.push('system', `requested commit ${body.commit} but deployed ${result.commit}`, this.now());
    }
    t.commit = result.commit;
    t.port = result.hostPort;
    t.url = result.hostPort === undefined ? undefined : this.tracked.urlFor(result.hostPort);
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
    this.tracked.watchRunning(t);
    this.outbox.publish(t, DeploymentStatus.Running, { message: runningMessage(result) });
    // from the container's start: lines it printed before the follower attached are not lost
    await this.logs.follow(t, runStartedAt ?? this.now());
  }

  /**
   * Redeploys a running deployment: the deployer builds the request afresh and swaps it for the
   * running app (the Docker runtime keeps the old one serving until the new one is built and
   * tested). Its logs and stats carry on from the old app until the new one runs.
   */
  private async replace(t: Tracked, body: DeployRequestBody): Promise<void> {
    this.logger.info('redeploying: replacing the running deployment', { deploymentId: t.deploymentId, attempt: body.attempt });
    t.phase = 'queued';
    t.status = DeploymentStatus.DeploymentRequested;
    // the old version's stop and the new one's start are not restarts
    this.tracked.unwatch(t.deploymentId);
    this.outbox.publish(t, DeploymentStatus.ValidatingDeploymentData, { message: `redeploying (attempt ${String(body.attempt)})` });
    await this.runDeploy(t, { ...body, replace: true });
  }

  /** Whether the deployer still runs this deployment (after a failed redeploy, the old version may). */
  private async deployerStillRuns(deploymentId: string): Promise<boolean> {
    try {
      return (await this.deployer.list()).some((found) => found.deploymentId === deploymentId && found.state === 'running');
    } catch (error) {
      this.fail(error, 'list deployments after a failed redeploy', deploymentId);
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
    if (status !== undefined && statusRank(status) > statusRank(t.status)) this.outbox.publish(t, status, {});
  }

  private async onDestroy(body: DeployCancelBody, type: string): Promise<void> {
    const { deploymentId } = body;
    const why = body.reason === undefined ? type : `${type}: ${body.reason}`;
    const t = this.tracked.get(deploymentId);
    if (!t) {
      await this.destroyUntracked(deploymentId, why);
      return;
    }
    if (t.phase === 'destroying' || t.cancelled) {
      this.counters.duplicateRequests++;
      this.outbox.publish(t, t.status, { message: 'already being destroyed', force: true });
      return;
    }
    this.logger.info('destroying deployment', { deploymentId, phase: t.phase, reason: why });
    const phase = t.phase;
    t.cancelled = true;
    t.phase = 'destroying';
    if (phase === 'queued') {
      this.outbox.publish(t, DeploymentStatus.DestructionInProgress, { message: why });
      // runDeploy wakes up, sees the cancel and reports Destroyed
      t.ticket?.release();
    } else if (phase === 'deploying') {
      // a deploy step cannot be interrupted; runDeploy removes what it made once the step ends
      this.outbox.publish(t, DeploymentStatus.DestructionInProgress, { message: `${why}; stopping once the current deploy step ends` });
    } else {
      this.outbox.publish(t, DeploymentStatus.DestructionInProgress, { message: why });
      await this.destroy(t);
    }
  }

  /** Stops the container, the log follower and stats, then reports Destroyed (or Errored). */
  private async destroy(t: Tracked): Promise<void> {
    t.phase = 'destroying';
    if (t.status !== DeploymentStatus.DestructionInProgress) this.outbox.publish(t, DeploymentStatus.DestructionInProgress, {});
    t.follower?.stop();
    t.follower = undefined;
    try {
      await this.deployer.stop(t.deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code !== ErrorCode.NotFound) {
        this.fail(failure, 'stop the container', t.deploymentId);
        this.outbox.publish(t, DeploymentStatus.Errored, { message: `could not stop deployment: ${failure.message}` });
        await this.tracked.untrack(t);
        return;
      }
    }
    await this.finishDestroyed(t, 'container stopped and removed');
  }

  private async finishDestroyed(t: Tracked, message: string): Promise<void> {
    if (t.status !== DeploymentStatus.DestructionInProgress) this.outbox.publish(t, DeploymentStatus.DestructionInProgress, {});
    this.outbox.publish(t, DeploymentStatus.Destroyed, { message });
    await this.tracked.untrack(t);
  }

  /** A stop for something this worker does not hold: remove any leftover container, then say Destroyed. */
  private async destroyUntracked(deploymentId: string, why: string): Promise<void> {
    try {
      await this.deployer.stop(deploymentId);
      this.logger.info('stopped a container this worker did not track', { deploymentId, reason: why });
      this.outbox.publishUntracked(deploymentId, DeploymentStatus.Destroyed, 'stopped and removed a leftover container');
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code === ErrorCode.NotFound) {
        this.logger.info('nothing to stop for an unknown deployment; reporting Destroyed', { deploymentId, reason: why });
        this.outbox.publishUntracked(deploymentId, DeploymentStatus.Destroyed, `nothing to stop: node ${this.nodeId} runs no deployment ${deploymentId}`);
      } else {
        this.fail(failure, 'stop an untracked container', deploymentId);
        this.outbox.publishUntracked(deploymentId, DeploymentStatus.Errored, `could not stop deployment: ${failure.message}`);
      }
    }
  }

  // ---- stop, start, restart (no rebuild) -------------------------------------------------------

  /**
   * A stop, start or restart the user asked for. A stopped app is not tracked (like a stopped
   * container found after a restart): it is neither in heartbeats nor sampled, and a start tracks
   * it again. Runs in the background, so a slow start does not hold up other commands.
   */
  private onLifecycle(body: DeployLifecycleBody): void {
    const { deploymentId, action } = body;
    const t = this.tracked.get(deploymentId);
    if (t !== undefined && t.phase !== 'running') {
      this.outbox.publish(t, t.status, { message: `cannot ${action} it now: it is ${describePhase(t.phase)} on ${this.nodeId}`, force: true });
      return;
    }
    if (t !== undefined && body.attempt !== undefined) t.attempt = Math.max(t.attempt ?? 0, body.attempt);
    const why = body.reason ?? `${action} requested`;
    if (action === LifecycleAction.Stop) {
      this.background.run(this.stopApp(deploymentId, t, body.attempt, why), 'stop an app', deploymentId);
    } else if (action === LifecycleAction.Start && t !== undefined) {
      this.outbox.publish(t, DeploymentStatus.Running, { message: `already running on ${this.nodeId}`, force: true });
    } else {
      this.background.run(this.restartApp(deploymentId, t, body.attempt, why), `${action} an app`, deploymentId);
    }
  }

  /** Stops a running app and keeps what was built; reports Stopped. The stop is no crash: its events are not counted. */
  private async stopApp(deploymentId: string, t: Tracked | undefined, attempt: number | undefined, why: string): Promise<void> {
    if (t !== undefined) {
      this.tracked.unwatch(deploymentId);
      t.phase = 'destroying';
    }
    try {
      await this.deployer.stopApp(deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      this.fail(failure, 'stop an app', deploymentId);
      if (t === undefined) {
        this.outbox.send({ deploymentId, status: DeploymentStatus.Errored, message: `could not stop it: ${failure.message}`, ...(attempt === undefined ? {} : { attempt }) });
      } else {
        t.phase = 'running';
        this.tracked.watchRunning(t);
        this.outbox.publish(t, DeploymentStatus.Running, { message: `could not stop it: ${failure.message}; it keeps running`, force: true });
      }
      return;
    }
    const message = `stopped on ${this.nodeId} (${why}); its ${this.runtime === Runtime.Docker ? 'container and image are' : 'built folder is'} kept for a start without a build`;
    if (t === undefined) {
      this.outbox.send({ deploymentId, status: DeploymentStatus.Stopped, message, ...(attempt === undefined ? {} : { attempt }) });
      return;
    }
    t.logs.push('system', message, this.now());
    this.outbox.publish(t, DeploymentStatus.Stopped, { message });
    await this.tracked.untrack(t);
  }

  /**
   * Restarts an app in place without a build: stops it when it runs, then starts it from what was
   * built, and follows it again. A start, too, is this with nothing running. A start that fails
   * leaves the app stopped and says why.
   */
  private async restartApp(deploymentId: string, running: Tracked | undefined, attempt: number | undefined, why: string): Promise<void> {
    if (running !== undefined) {
      this.tracked.unwatch(deploymentId);
      running.follower?.stop();
      running.follower = undefined;
      await this.tracked.untrack(running);
    }
    const t = this.tracked.track(deploymentId, 'deploying', DeploymentStatus.Deploying);
    t.attempt = attempt ?? running?.attempt;
    t.logs.push('system', `${running === undefined ? 'starting' : 'restarting'} on ${this.nodeId} without a build (${why})`, this.now());
    const startedAt = this.now();
    let started;
    try {
      if (running !== undefined) await this.deployer.stopApp(deploymentId);
      started = await this.deployer.startApp(deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      this.logger.warn('start without a build failed; the app stays stopped', { deploymentId, error: failure });
      t.logs.push('system', `could not start it: ${failure.message}`, this.now());
      this.outbox.publish(t, DeploymentStatus.Stopped, { message: `could not start it: ${failure.message}`, errorCode: failure.code, force: true });
      await this.tracked.untrack(t);
      return;
    }
    if (this.isStopped()) return;
    t.commit = /^[0-9a-f]{7,64}$/.test(started.commit) ? started.commit : undefined;
    t.port = started.hostPort;
    t.url = started.hostPort === undefined ? undefined : this.tracked.urlFor(started.hostPort);
    t.phase = 'running';
    this.tracked.watchRunning(t);
    this.outbox.publish(t, DeploymentStatus.Running, { message: `${running === undefined ? 'started' : 'restarted'} without a build`, force: true });
    await this.logs.follow(t, startedAt);
  }

  // ---- watching running apps ----------------------------------------------------------------

  /** A running app stopped answering on its port, or answers again: said, so the ingress follows. */
  private onReadiness(deploymentId: string, readiness: AppReadiness, message: string): void {
    const t = this.tracked.get(deploymentId);
    if (t === undefined || !this.tracked.stillRunning(t)) return;
    t.logs.push('system', message, this.now());
    this.outbox.publish(t, DeploymentStatus.Running, { message, force: true, readiness });
  }

  // ---- crash loops ----------------------------------------------------------------------------

  /** The runtime restarted a running app, or it recovered: say so; or it keeps crashing: end it. */
  private onRestartVerdict(deploymentId: string, verdict: RestartVerdict): void {
    const t = this.tracked.get(deploymentId);
    if (t === undefined || !this.tracked.stillRunning(t)) return;
    if (verdict.kind === 'report') {
      t.logs.push('system', verdict.message, this.now());
      this.outbox.publish(t, DeploymentStatus.Running, { message: verdict.message, force: true });
      return;
    }
    this.background.run(this.giveUp(t, verdict.reason, verdict.restarts), 'stop a crash-looping app', deploymentId);
  }

  /** Stops an app that kept crashing and reports it Errored with the reason and its restarts. */
  private async giveUp(t: Tracked, reason: string, restarts: AppRestarts): Promise<void> {
    this.logger.warn('stopping a crash-looping app', { deploymentId: t.deploymentId, reason, restarts: restarts.count });
    t.phase = 'destroying';
    t.logs.push('system', reason, this.now());
    let message = reason;
    try {
      await this.deployer.stop(t.deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code !== ErrorCode.NotFound) {
        this.fail(failure, 'stop a crash-looping app', t.deploymentId);
        message = `${reason}, but could not stop it: ${failure.message}`;
      }
    }
    this.counters.deploysFailed++;
    this.outbox.publish(t, DeploymentStatus.Errored, { message, errorCode: ErrorCode.CrashLoop, restarts });
    await this.tracked.untrack(t);
  }

  // ---- restart reconcile ----------------------------------------------------------------------

  private async reconcile(): Promise<void> {
    let found;
    try {
      found = await this.deployer.list();
    } catch (error) {
      // an engine that is down at start must not keep the worker from taking commands
      this.fail(error, 'list deployments to reconcile');
      return;
    }
    const cursors = await this.logCursors.load().catch((error: unknown) => {
      this.fail(error, 'read the log cursors');
      return new Map<string, string>();
    });
    const taken: string[] = [];
    for (const deployment of found) {
      if (deployment.state !== 'running' && deployment.state !== 'restarting') {
        this.logger.info('leaving a stopped container alone; a new deploy or a stop removes it', { deploymentId: deployment.deploymentId, state: deployment.state });
        continue;
      }
      if (this.tracked.has(deployment.deploymentId)) continue;
      const t = this.tracked.track(deployment.deploymentId, 'running', DeploymentStatus.Running);
      t.commit = /^[0-9a-f]{7,64}$/.test(deployment.commit) ? deployment.commit : undefined;
      t.port = deployment.hostPort;
      t.url = deployment.hostPort === undefined ? undefined : this.tracked.urlFor(deployment.hostPort);
      this.tracked.watchRunning(t);
      this.outbox.publish(t, DeploymentStatus.Running, { message: 'found running after a worker restart', force: true });
      // right after the last line the broker confirmed to the previous instance, when it said;
      // else from now (its earlier lines were sent, the ones of the outage are lost)
      t.lastCursor = cursors.get(t.deploymentId);
      this.background.run(this.logs.follow(t, this.now()), 'follow logs', t.deploymentId);
      taken.push(deployment.deploymentId);
    }
    // cursors of apps that are gone (stopped while no agent ran) would only pile up
    for (const deploymentId of cursors.keys()) if (!this.tracked.has(deploymentId)) await this.logCursors.forget(deploymentId);
    if (taken.length > 0) this.logger.info('took over running deployments', { deployments: taken });
    this.emit('reconciled', taken);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  // Read through a method: the compiler would keep a field narrowed across awaits, where it changes.
  private isStopped(): boolean {
    return this.stopped;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private fail(error: unknown, during: string, deploymentId?: string): void {
    const failure = toKrakenError(error);
    this.counters.failures++;
    this.logger.warn(`worker could not ${during}`, { error: failure, ...(deploymentId === undefined ? {} : { deploymentId }) });
    this.emit('failure', failure, { during, ...(deploymentId === undefined ? {} : { deploymentId }) });
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
