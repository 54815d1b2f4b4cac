import type { Broker, Delivery, Subscription } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { TypedEmitter, systemClock, toKrakenError } from '@kraken/common';
import type { DeployPrepareBody, DeploymentStatus, Message } from '@kraken/messages';
import { DeliveryClass, MessageType, Runtime } from '@kraken/messages';
import { AppLifecycle } from './app-lifecycle.js';
import { Background } from './background.js';
import { CrashWatch } from './crash-watch.js';
import { DeployRunner } from './deploy-runner.js';
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
import { StatusOutbox } from './status-outbox.js';
import type { SystemProbe } from './system-probe.js';
import { OsSystemProbe } from './system-probe.js';
import { TelemetryLoop } from './telemetry-loop.js';
import { TrackedDeployments } from './tracked.js';
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

/**
 * One node's executor: takes deploy/cancel/stop commands from its own queue, runs them through a
 * Deployer, and reports status, heartbeats, logs and stats to the orchestrator. Nothing it does
 * for one deployment can stop it or another deployment: every failure becomes an Errored status,
 * a log line and a `failure` event.
 *
 * The Worker takes the commands and hands them on: DeployRunner deploys, AppLifecycle destroys,
 * stops and restarts, LogFollowing carries the logs, TelemetryLoop the heartbeats and stats, all
 * over the deployments in TrackedDeployments and all sending through the StatusOutbox.
 */
export class Worker extends TypedEmitter<WorkerEvents> {
  readonly nodeId: string;
  private readonly broker: Broker;
  private readonly logger: Logger;
  private readonly runtime: Runtime;
  private readonly options: CompiledWorkerOptions;
  /** Builds of deployments that run elsewhere, made here ahead of a move while no deploy needs the slots. */
  private readonly failover: FailoverBuilds;
  private readonly crashWatch: CrashWatch;
  private readonly readyWatch: ReadyWatch;
  private readonly logCursors: LogCursorStore;
  private readonly background: Background;
  private readonly outbox: StatusOutbox;
  private readonly tracked: TrackedDeployments;
  private readonly logs: LogFollowing;
  private readonly runner: DeployRunner;
  private readonly lifecycle: AppLifecycle;
  private readonly telemetry: TelemetryLoop;
  private readonly counters = zeroStats();
  private subscription: Subscription | undefined;
  private highestEpoch = 0;
  private stopped = false;

  private constructor(create: WorkerCreateOptions) {
    super();
    this.nodeId = create.nodeId;
    const options = compileWorkerOptions(create.nodeId, create.options);
    this.options = options;
    this.broker = create.broker;
    const deployer = create.deployer;
    const logger = create.logger.child({ component: 'worker', nodeId: create.nodeId });
    this.logger = logger;
    this.runtime = create.deployer.runtime ?? Runtime.Docker;
    const clock = create.clock ?? systemClock;
    this.logCursors = create.logCursors ?? noLogCursors;
    const report: WorkerReport = {
      counters: this.counters,
      emit: (event, ...args) => {
        this.emit(event, ...args);
      },
      fail: (error, during, deploymentId) => {
        this.fail(error, during, deploymentId);
      },
    };
    // the parts reach each other through closures, read when called: some call parts made after them
    const stopped = (): boolean => this.stopped;
    const common = { nodeId: this.nodeId, report, clock, logger, stopped };
    this.background = new Background(report.fail);
    const slots = new Slots(options.maxConcurrentDeploys, () => {
      this.failover.poke();
    });
    this.failover = new FailoverBuilds({ deployer, mayStart: () => slots.idle, logger });
    this.crashWatch = new CrashWatch({
      deployer,
      policy: options.crashLoop,
      clock,
      logger,
      rewatchDelayMs: options.logRefollowDelayMs,
      onVerdict: (deploymentId, verdict) => {
        this.lifecycle.onRestartVerdict(deploymentId, verdict);
      },
      onError: report.fail,
    });
    this.readyWatch = new ReadyWatch({
      policy: options.ready,
      clock,
      probe: create.readyProbe ?? httpProbe,
      isRestarting: (deploymentId) => this.crashWatch.restartsOf(deploymentId)?.looping === true,
      onChange: (deploymentId, readiness, message) => {
        this.lifecycle.onReadiness(deploymentId, readiness, message);
      },
    });
    this.outbox = new StatusOutbox({
      ...common,
      broker: this.broker,
      queues: options.queues,
      epoch: () => this.highestEpoch,
      restartsOf: (deploymentId) => this.crashWatch.restartsOf(deploymentId),
      readinessOf: (deploymentId) => this.readyWatch.readinessOf(deploymentId),
    });
    this.tracked = new TrackedDeployments({
      openLogs: (deploymentId) => this.logs.open(deploymentId),
      crashWatch: this.crashWatch,
      readyWatch: this.readyWatch,
      logCursors: this.logCursors,
      requestAgain: (body) => this.runner.request(body),
      stopped,
      host: () => options.publicHost ?? this.telemetry.addresses[0] ?? '127.0.0.1',
    });
    const parts = { ...common, deployer, outbox: this.outbox, deployments: this.tracked, background: this.background };
    this.logs = new LogFollowing({ ...parts, settings: options, logCursors: this.logCursors });
    this.lifecycle = new AppLifecycle({ ...parts, runtime: this.runtime, logs: this.logs });
    this.runner = new DeployRunner({ ...parts, runtime: this.runtime, slots, failover: this.failover, logs: this.logs, lifecycle: this.lifecycle, logCursors: this.logCursors });
    this.telemetry = new TelemetryLoop({
      ...parts,
      settings: options,
      probe: create.probe ?? new OsSystemProbe(),
      engine: create.engine ?? { ping: () => create.deployer.list() },
      runtime: this.runtime,
      extensionsProvider: create.nodeInfoExtensions,
      // an agent that lists none is asked for none (the orchestrator reads that as "cannot make them")
      failoverBuilds: () => (options.failoverBuilds ? this.failover.list() : undefined),
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
    await this.runner.reconcile();
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
    const held = this.tracked.values();
    const inFlight = held.filter((t) => t.phase === 'queued' || t.phase === 'deploying').map((t) => t.deploymentId);
    // handed back, not finished: the deployer's close ends their steps, their records keep the
    // status they reached, and the orchestrator sends them again (here once this node is back, or
    // elsewhere should it stay away)
    if (inFlight.length > 0) this.logger.info('handing back deploys in flight: the orchestrator sends them again', { deployments: inFlight });
    for (const t of held) {
      t.follower?.stop();
      t.ticket?.release();
    }
    await Promise.all(held.map((t) => t.logs.close()));
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
      if (message.type === MessageType.DeployRequest) await this.runner.request(message.body);
      else if (message.type === MessageType.DeployLifecycle) this.lifecycle.command(message.body);
      else if (message.type === MessageType.DeployPrepare) this.onPrepare(message.body);
      else await this.lifecycle.cancel(message.body, message.type);
    } catch (error) {
      this.fail(error, `handle ${message.type}`, message.body.deploymentId);
    }
  }

  private ignore(message: Message, reason: IgnoredReason): void {
    this.logger.warn('command ignored', { type: message.type, messageId: message.id, epoch: message.epoch, highestEpoch: this.highestEpoch, reason });
    this.emit('command-ignored', { type: message.type, messageId: message.id, epoch: message.epoch, highestEpoch: this.highestEpoch, reason });
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
    if (!this.options.failoverBuilds) {
      this.logger.debug('failover build asked for, and this node makes none (failoverBuilds off); ignored', { deploymentId });
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

  private fail(error: unknown, during: string, deploymentId?: string): void {
    const failure = toKrakenError(error);
    this.counters.failures++;
    this.logger.warn(`worker could not ${during}`, { error: failure, ...(deploymentId === undefined ? {} : { deploymentId }) });
    this.emit('failure', failure, { during, ...(deploymentId === undefined ? {} : { deploymentId }) });
  }
}
