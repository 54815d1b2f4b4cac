import type { Broker, Delivery, Subscription } from '@kraken/broker';
import type { Clock, KrakenError, Logger } from '@kraken/common';
import { ErrorCode, TypedEmitter, isoTime, redactCredentials, systemClock, toKrakenError, withTimeout } from '@kraken/common';
import type { DeployProgress, LogFollower } from '@kraken/docker-deployer';
import { MAX_LOG_READ_LINES } from '@kraken/docker-deployer';
import type { AppReadiness, AppRestarts, DeployCancelBody, DeployLifecycleBody, DeployLogBody, DeployPrepareBody, DeployRequestBody, DeployStatusBody, Message, NodeInfoBody, NodeInfoExtensions } from '@kraken/messages';
import { DeliveryClass, DeploymentStatus, LifecycleAction, MessageType, PROTOCOL_VERSION, Runtime, createMessage, deploymentStatusOrder, redeployFailedMessage } from '@kraken/messages';
import { CrashWatch } from './crash-watch.js';
import type { Deployer, EngineProbe } from './deployer.js';
import { FailoverBuilds } from './failover-builds.js';
import { LogBatcher } from './log-batcher.js';
import type { ReadyProbe } from './ready-watch.js';
import { ReadyWatch, httpProbe } from './ready-watch.js';
import type { LogCursorStore } from './log-cursors.js';
import { noLogCursors } from './log-cursors.js';
import type { NodeInfoExtensionsProvider } from './node-info-extensions.js';
import { readNodeInfoExtensions } from './node-info-extensions.js';
import type { CompiledWorkerOptions, WorkerOptions } from './options.js';
import { compileWorkerOptions } from './options.js';
import type { SlotTicket } from './slots.js';
import { Slots } from './slots.js';
import type { RestartVerdict } from './restarts.js';
import { statusOfStep } from './status-map.js';
import type { SystemProbe, SystemSample } from './system-probe.js';
import { OsSystemProbe } from './system-probe.js';


/** How long a heartbeat waits for the engine's and the add-ons' fresh answers before it goes with the last ones. */
const READINGS_BUDGET_MS = 200;

/** What a heartbeat says of the container engine and the add-ons, read beside it. */
interface HeartbeatReadings {
  engineHealthy: boolean;
  extensions: NodeInfoExtensions | undefined;
}
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

/** Why a command was not carried out. */
export type IgnoredReason = 'stale-epoch' | 'unexpected-type' | 'stopping';

export type WorkerEvents = {
  /** A deploy.status the worker published (or tried to). */
  status: [body: DeployStatusBody];
  heartbeat: [body: NodeInfoBody];
  'command-ignored': [info: { type: string; messageId: string; epoch: number; highestEpoch: number; reason: IgnoredReason }];
  /** The same deploymentId asked for again while it is in progress or running: not redone. */
  'duplicate-request': [info: { deploymentId: string; status: DeploymentStatus }];
  'logs-dropped': [info: { deploymentId: string; lines: number; reason: string }];
  /** Deployments found running at start and taken over without deploying them again. */
  reconciled: [deploymentIds: string[]];
  /** Something failed that the worker survived (a publish, a stats read, a deploy that threw). */
  failure: [error: KrakenError, context: { during: string; deploymentId?: string }];
};

export interface WorkerStats {
  commandsHandled: number;
  staleCommandsIgnored: number;
  duplicateRequests: number;
  deploysStarted: number;
  deploysSucceeded: number;
  deploysFailed: number;
  heartbeatsSent: number;
  statsSent: number;
  logBatchesSent: number;
  logLinesDropped: number;
  failures: number;
}

type Phase = 'queued' | 'deploying' | 'running' | 'destroying';

interface Tracked {
  readonly deploymentId: string;
  phase: Phase;
  status: DeploymentStatus;
  commit?: string | undefined;
  port?: number | undefined;
  url?: string | undefined;
  readonly logs: LogBatcher;
  follower?: LogFollower | undefined;
  /** The cursor of the last line read from the app's log: a follow that ended resumes after it. */
  lastCursor?: string | undefined;
  ticket?: SlotTicket | undefined;
  /** Set when a cancel/stop arrived while the deploy was queued or running. */
  cancelled: boolean;
  /** A deploy request that arrived while this deployment was being destroyed: run once the destroy ends. */
  deployAfterDestroy?: DeployRequestBody | undefined;
  /** A newer attempt (a redeploy) that arrived while an older one was deploying: run once it is up. */
  redeployAfterDeploy?: DeployRequestBody | undefined;
  /**
   * The orchestrator's attempt number this node works on, echoed in deploy.status so a late status
   * of an older attempt is recognised. Unknown for a deployment adopted after a restart.
   */
  attempt?: number | undefined;
  statsInFlight: boolean;
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
  private readonly probe: SystemProbe;
  private readonly engine: EngineProbe;
  private readonly runtime: Runtime;
  private readonly clock: Clock;
  private readonly extensionsProvider: NodeInfoExtensionsProvider | undefined;
  /** The extensions failure last logged: a provider failing every beat is logged once, not every 2 s. */
  private extensionsProblem: string | undefined;
  private readonly options: CompiledWorkerOptions;
  private readonly slots: Slots;
  /** Builds of deployments that run elsewhere, made here ahead of a move while no deploy needs the slots. */
  private readonly failover: FailoverBuilds;
  private readonly crashWatch: CrashWatch;
  private readonly readyWatch: ReadyWatch;
  private readonly logCursors: LogCursorStore;
  /** A log follow reads on while its batcher has room for one more read (at most half its buffer). */
  private readonly readRoom: number;
  private readonly tracked = new Map<string, Tracked>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly background = new Set<Promise<void>>();
  private readonly counters: WorkerStats = {
    commandsHandled: 0,
    staleCommandsIgnored: 0,
    duplicateRequests: 0,
    deploysStarted: 0,
    deploysSucceeded: 0,
    deploysFailed: 0,
    heartbeatsSent: 0,
    statsSent: 0,
    logBatchesSent: 0,
    logLinesDropped: 0,
    failures: 0,
  };
  private subscription: Subscription | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  /** Whether someone watches the cluster: stats go out every statsInterval, else every idleStatsInterval. */
  private watched = true;
  private heartbeatInFlight: Promise<void> | undefined;
  private lastReadings: HeartbeatReadings | undefined;
  private readingsInFlight: Promise<HeartbeatReadings> | undefined;
  private highestEpoch = 0;
  private lastStatusAt = 0;
  /** Statuses go out one at a time, so the orchestrator receives them in the order they happened. */
  private statusChain: Promise<void> = Promise.resolve();
  private addresses: string[] = [];
  private stopped = false;

  private constructor(create: WorkerCreateOptions) {
    super();
    this.nodeId = create.nodeId;
    this.options = compileWorkerOptions(create.nodeId, create.options);
    this.broker = create.broker;
    this.deployer = create.deployer;
    this.logger = create.logger.child({ component: 'worker', nodeId: create.nodeId });
    this.probe = create.probe ?? new OsSystemProbe();
    this.engine = create.engine ?? { ping: () => create.deployer.list() };
    this.runtime = create.deployer.runtime ?? Runtime.Docker;
    this.clock = create.clock ?? systemClock;
    this.extensionsProvider = create.nodeInfoExtensions;
    this.logCursors = create.logCursors ?? noLogCursors;
    this.readRoom = Math.min(MAX_LOG_READ_LINES, Math.ceil(this.options.logBufferLines / 2));
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
    this.readyWatch = new ReadyWatch({
      policy: this.options.ready,
      clock: this.clock,
      probe: create.readyProbe ?? httpProbe,
      isRestarting: (deploymentId) => this.crashWatch.restartsOf(deploymentId)?.looping === true,
      onChange: (deploymentId, readiness, message) => {
        this.onReadiness(deploymentId, readiness, message);
      },
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
    this.heartbeatTimer = setInterval(() => {
      this.beat();
    }, this.options.heartbeatIntervalMs);
    this.scheduleStats();
    this.beat();
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
    clearInterval(this.heartbeatTimer);
    clearInterval(this.statsTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const inFlight = [...this.tracked.values()].filter((t) => t.phase === 'queued' || t.phase === 'deploying').map((t) => t.deploymentId);
    // handed back, not finished: the deployer's close ends their steps, their records keep the
    // status they reached, and the orchestrator sends them again (here once this node is back, or
    // elsewhere should it stay away)
    if (inFlight.length > 0) this.logger.info('handing back deploys in flight: the orchestrator sends them again', { deployments: inFlight });
    for (const t of this.tracked.values()) {
      t.follower?.stop();
      t.ticket?.release();
    }
    await Promise.all([...this.tracked.values()].map((t) => t.logs.close()));
    await this.logCursors.flush();
    await this.heartbeatInFlight;
    await this.statusChain;
    await this.sayStopping();
    this.logger.info('worker stopped', { deployments: this.tracked.size });
  }

  /**
   * The last heartbeat says the agent stops cleanly while its apps run on: without it the leader
   * would take the silence (and the closed broker connection) for a crash and move the apps
   * within seconds, while an update or a service restart brings the agent back as quickly.
   */
  private async sayStopping(): Promise<void> {
    try {
      const system = await this.probe.sample();
      const { engineHealthy, extensions } = this.lastReadings ?? { engineHealthy: true, extensions: undefined };
      const body: NodeInfoBody = { ...this.nodeInfo(system, engineHealthy, extensions), stopping: true };
      await this.broker.publish(this.options.queues.telemetry, createMessage(MessageType.NodeInfo, body, this.meta()));
    } catch (error) {
      this.fail(error, 'say it stops');
    }
  }

  stats(): WorkerStats {
    return { ...this.counters };
  }

  /** The deployments this worker holds and their last reported status. */
  deployments(): { deploymentId: string; status: DeploymentStatus }[] {
    return [...this.tracked.values()].map((t) => ({ deploymentId: t.deploymentId, status: t.status }));
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
        this.runInBackground(this.replace(existing, body), 'redeploy', deploymentId);
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
      this.publishStatus(existing, existing.status, { message: `already ${describePhase(existing.phase)} on ${this.nodeId}`, force: true });
      return Promise.resolve();
    }
    if (body.runtime !== undefined && body.runtime !== this.runtime) {
      this.publishUntracked(deploymentId, DeploymentStatus.Errored, `worker ${this.nodeId} runs applications in ${this.runtime} only, not ${body.runtime}`);
      return Promise.resolve();
    }
    const t = this.track(deploymentId, 'queued', DeploymentStatus.DeploymentRequested);
    t.attempt = body.attempt;
    // runDeploy reports ValidatingDeploymentData at once, saying what it waits for when it waits
    this.runInBackground(this.runDeploy(t, body), 'deploy', deploymentId);
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
      else this.runInBackground(this.failover.forget(deploymentId), 'forget a failover build', deploymentId);
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

  private track(deploymentId: string, phase: Phase, status: DeploymentStatus): Tracked {
    const logs = new LogBatcher({
      deploymentId,
      flushLines: this.options.logFlushLines,
      flushIntervalMs: this.options.logFlushIntervalMs,
      bufferLines: this.options.logBufferLines,
      batchBytes: this.options.logBatchBytes,
      send: (body) => this.sendLogBatch(body),
      onSendError: (error) => {
        this.fail(error, 'publish deploy.log', deploymentId);
      },
      onConfirmed: (cursor) => {
        this.logCursors.record(deploymentId, cursor);
      },
    });
    const t: Tracked = { deploymentId, phase, status, logs, cancelled: false, statsInFlight: false };
    this.tracked.set(deploymentId, t);
    return t;
  }

  private async runDeploy(t: Tracked, body: DeployRequestBody): Promise<void> {
    const { deploymentId } = t;
    const ticket = this.slots.acquire(deploymentId);
    t.ticket = ticket;
    // waiting work says what it waits for, rather than sitting in its first status unexplained (a
    // redeploy has said ValidatingDeploymentData already: without a wait, nothing more is sent)
    if (ticket.waiting) this.publishStatus(t, DeploymentStatus.ValidatingDeploymentData, { message: queuedMessage(this.slots), force: true });
    else this.publishStatus(t, DeploymentStatus.ValidatingDeploymentData, {});
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
        this.watchRunning(t);
        const previous = t.commit === undefined ? 'the previous version' : `the previous version (${t.commit.slice(0, 7)})`;
        this.publishStatus(t, DeploymentStatus.Running, { message: redeployFailedMessage(failure.message, previous), force: true });
        if (t.follower === undefined) this.runInBackground(this.follow(t, this.now()), 'follow logs', deploymentId);
      } else {
        this.counters.deploysFailed++;
        this.logger.warn('deploy failed', { deploymentId, error: failure });
        const hostPort = failure.details?.['hostPort'];
        this.publishStatus(t, DeploymentStatus.Errored, {
          message: failure.message,
          errorCode: failure.code,
          ...(typeof hostPort === 'number' ? { port: hostPort } : {}),
        });
        await this.untrack(t);
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
    t.url = result.hostPort === undefined ? undefined : this.urlFor(result.hostPort);
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
    this.watchRunning(t);
    this.publishStatus(t, DeploymentStatus.Running, { message: runningMessage(result) });
    // from the container's start: lines it printed before the follower attached are not lost
    await this.follow(t, runStartedAt ?? this.now());
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
    this.unwatch(t.deploymentId);
    this.publishStatus(t, DeploymentStatus.ValidatingDeploymentData, { message: `redeploying (attempt ${String(body.attempt)})` });
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
    if (status !== undefined && statusRank(status) > statusRank(t.status)) this.publishStatus(t, status, {});
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
      this.publishStatus(t, t.status, { message: 'already being destroyed', force: true });
      return;
    }
    this.logger.info('destroying deployment', { deploymentId, phase: t.phase, reason: why });
    const phase = t.phase;
    t.cancelled = true;
    t.phase = 'destroying';
    if (phase === 'queued') {
      this.publishStatus(t, DeploymentStatus.DestructionInProgress, { message: why });
      // runDeploy wakes up, sees the cancel and reports Destroyed
      t.ticket?.release();
    } else if (phase === 'deploying') {
      // a deploy step cannot be interrupted; runDeploy removes what it made once the step ends
      this.publishStatus(t, DeploymentStatus.DestructionInProgress, { message: `${why}; stopping once the current deploy step ends` });
    } else {
      this.publishStatus(t, DeploymentStatus.DestructionInProgress, { message: why });
      await this.destroy(t);
    }
  }

  /** Stops the container, the log follower and stats, then reports Destroyed (or Errored). */
  private async destroy(t: Tracked): Promise<void> {
    t.phase = 'destroying';
    if (t.status !== DeploymentStatus.DestructionInProgress) this.publishStatus(t, DeploymentStatus.DestructionInProgress, {});
    t.follower?.stop();
    t.follower = undefined;
    try {
      await this.deployer.stop(t.deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code !== ErrorCode.NotFound) {
        this.fail(failure, 'stop the container', t.deploymentId);
        // its code tells the orchestrator when the engine did not answer (EngineDown): it stops the container once the engine is back
        this.publishStatus(t, DeploymentStatus.Errored, { message: `could not stop deployment: ${failure.message}`, errorCode: failure.code });
        await this.untrack(t);
        return;
      }
    }
    await this.finishDestroyed(t, 'container stopped and removed');
  }

  private async finishDestroyed(t: Tracked, message: string): Promise<void> {
    if (t.status !== DeploymentStatus.DestructionInProgress) this.publishStatus(t, DeploymentStatus.DestructionInProgress, {});
    this.publishStatus(t, DeploymentStatus.Destroyed, { message });
    await this.untrack(t);
  }

  /** A stop for something this worker does not hold: remove any leftover container, then say Destroyed. */
  private async destroyUntracked(deploymentId: string, why: string): Promise<void> {
    try {
      await this.deployer.stop(deploymentId);
      this.logger.info('stopped a container this worker did not track', { deploymentId, reason: why });
      this.publishUntracked(deploymentId, DeploymentStatus.Destroyed, 'stopped and removed a leftover container');
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code === ErrorCode.NotFound) {
        this.logger.info('nothing to stop for an unknown deployment; reporting Destroyed', { deploymentId, reason: why });
        this.publishUntracked(deploymentId, DeploymentStatus.Destroyed, `nothing to stop: node ${this.nodeId} runs no deployment ${deploymentId}`);
      } else {
        this.fail(failure, 'stop an untracked container', deploymentId);
        this.publishUntracked(deploymentId, DeploymentStatus.Errored, `could not stop deployment: ${failure.message}`);
      }
    }
  }

  private async untrack(t: Tracked): Promise<void> {
    this.unwatch(t.deploymentId);
    t.follower?.stop();
    t.follower = undefined;
    await t.logs.close();
    await this.logCursors.forget(t.deploymentId);
    if (this.tracked.get(t.deploymentId) === t) this.tracked.delete(t.deploymentId);
    const next = t.deployAfterDestroy;
    if (next !== undefined && !this.stopped) await this.onRequest(next);
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
      this.publishStatus(t, t.status, { message: `cannot ${action} it now: it is ${describePhase(t.phase)} on ${this.nodeId}`, force: true });
      return;
    }
    if (t !== undefined && body.attempt !== undefined) t.attempt = Math.max(t.attempt ?? 0, body.attempt);
    const why = body.reason ?? `${action} requested`;
    if (action === LifecycleAction.Stop) {
      this.runInBackground(this.stopApp(deploymentId, t, body.attempt, why), 'stop an app', deploymentId);
    } else if (action === LifecycleAction.Start && t !== undefined) {
      this.publishStatus(t, DeploymentStatus.Running, { message: `already running on ${this.nodeId}`, force: true });
    } else {
      this.runInBackground(this.restartApp(deploymentId, t, body.attempt, why), `${action} an app`, deploymentId);
    }
  }

  /** Stops a running app and keeps what was built; reports Stopped. The stop is no crash: its events are not counted. */
  private async stopApp(deploymentId: string, t: Tracked | undefined, attempt: number | undefined, why: string): Promise<void> {
    if (t !== undefined) {
      this.unwatch(deploymentId);
      t.phase = 'destroying';
    }
    try {
      await this.deployer.stopApp(deploymentId);
    } catch (error) {
      const failure = toKrakenError(error);
      this.fail(failure, 'stop an app', deploymentId);
      if (t === undefined) {
        this.sendStatus({ deploymentId, status: DeploymentStatus.Errored, message: `could not stop it: ${failure.message}`, ...(attempt === undefined ? {} : { attempt }) });
      } else {
        t.phase = 'running';
        this.watchRunning(t);
        this.publishStatus(t, DeploymentStatus.Running, { message: `could not stop it: ${failure.message}; it keeps running`, force: true });
      }
      return;
    }
    const message = `stopped on ${this.nodeId} (${why}); its ${this.runtime === Runtime.Docker ? 'container and image are' : 'built folder is'} kept for a start without a build`;
    if (t === undefined) {
      this.sendStatus({ deploymentId, status: DeploymentStatus.Stopped, message, ...(attempt === undefined ? {} : { attempt }) });
      return;
    }
    t.logs.push('system', message, this.now());
    this.publishStatus(t, DeploymentStatus.Stopped, { message });
    await this.untrack(t);
  }

  /**
   * Restarts an app in place without a build: stops it when it runs, then starts it from what was
   * built, and follows it again. A start, too, is this with nothing running. A start that fails
   * leaves the app stopped and says why.
   */
  private async restartApp(deploymentId: string, running: Tracked | undefined, attempt: number | undefined, why: string): Promise<void> {
    if (running !== undefined) {
      this.unwatch(deploymentId);
      running.follower?.stop();
      running.follower = undefined;
      await this.untrack(running);
    }
    const t = this.track(deploymentId, 'deploying', DeploymentStatus.Deploying);
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
      this.publishStatus(t, DeploymentStatus.Stopped, { message: `could not start it: ${failure.message}`, errorCode: failure.code, force: true });
      await this.untrack(t);
      return;
    }
    if (this.isStopped()) return;
    t.commit = /^[0-9a-f]{7,64}$/.test(started.commit) ? started.commit : undefined;
    t.port = started.hostPort;
    t.url = started.hostPort === undefined ? undefined : this.urlFor(started.hostPort);
    t.phase = 'running';
    this.watchRunning(t);
    this.publishStatus(t, DeploymentStatus.Running, { message: `${running === undefined ? 'started' : 'restarted'} without a build`, force: true });
    await this.follow(t, startedAt);
  }

  // ---- watching running apps ----------------------------------------------------------------

  /** A deployment now runs: its restarts are counted and its answers checked from now on. */
  private watchRunning(t: Tracked): void {
    this.crashWatch.running(t.deploymentId);
    this.readyWatch.running(t.deploymentId, t.port);
  }

  /** It is going away, being replaced or stopped: what its runtime and its port say means nothing now. */
  private unwatch(deploymentId: string): void {
    this.crashWatch.forget(deploymentId);
    this.readyWatch.forget(deploymentId);
  }

  /** A running app stopped answering on its port, or answers again: said, so the ingress follows. */
  private onReadiness(deploymentId: string, readiness: AppReadiness, message: string): void {
    const t = this.tracked.get(deploymentId);
    if (t === undefined || !this.stillRunning(t)) return;
    t.logs.push('system', message, this.now());
    this.publishStatus(t, DeploymentStatus.Running, { message, force: true, readiness });
  }

  // ---- crash loops ----------------------------------------------------------------------------

  /** The runtime restarted a running app, or it recovered: say so; or it keeps crashing: end it. */
  private onRestartVerdict(deploymentId: string, verdict: RestartVerdict): void {
    const t = this.tracked.get(deploymentId);
    if (t === undefined || !this.stillRunning(t)) return;
    if (verdict.kind === 'report') {
      t.logs.push('system', verdict.message, this.now());
      this.publishStatus(t, DeploymentStatus.Running, { message: verdict.message, force: true });
      return;
    }
    this.runInBackground(this.giveUp(t, verdict.reason, verdict.restarts), 'stop a crash-looping app', deploymentId);
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
    this.publishStatus(t, DeploymentStatus.Errored, { message, errorCode: ErrorCode.CrashLoop, restarts });
    await this.untrack(t);
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
      const t = this.track(deployment.deploymentId, 'running', DeploymentStatus.Running);
      t.commit = /^[0-9a-f]{7,64}$/.test(deployment.commit) ? deployment.commit : undefined;
      t.port = deployment.hostPort;
      t.url = deployment.hostPort === undefined ? undefined : this.urlFor(deployment.hostPort);
      this.watchRunning(t);
      this.publishStatus(t, DeploymentStatus.Running, { message: 'found running after a worker restart', force: true });
      // right after the last line the broker confirmed to the previous instance, when it said;
      // else from now (its earlier lines were sent, the ones of the outage are lost)
      t.lastCursor = cursors.get(t.deploymentId);
      this.runInBackground(this.follow(t, this.now()), 'follow logs', t.deploymentId);
      taken.push(deployment.deploymentId);
    }
    // cursors of apps that are gone (stopped while no agent ran) would only pile up
    for (const deploymentId of cursors.keys()) if (!this.tracked.has(deploymentId)) await this.logCursors.forget(deploymentId);
    if (taken.length > 0) this.logger.info('took over running deployments', { deployments: taken });
    this.emit('reconciled', taken);
  }

  // ---- logs -----------------------------------------------------------------------------------

  private async follow(t: Tracked, since: Date): Promise<void> {
    if (this.stopped || t.phase !== 'running') return;
    let follower: LogFollower;
    try {
      follower = await this.deployer.followLogs(
        t.deploymentId,
        (line) => {
          if (line.cursor !== undefined) t.lastCursor = line.cursor;
          t.logs.push(line.stream, line.text, line.at, line.cursor);
        },
        {
          since,
          ...(t.lastCursor === undefined ? {} : { after: t.lastCursor }),
          onSkipped: (lines) => {
            this.logsSkipped(t, lines);
          },
          // the lines wait in the runtime's log rather than be dropped from a full buffer
          isFull: () => t.logs.room() < this.readRoom,
        },
      );
    } catch (error) {
      const failure = toKrakenError(error);
      if (!this.stillRunning(t)) return;
      if (failure.code === ErrorCode.NotFound) {
        this.publishStatus(t, DeploymentStatus.Errored, { message: `the container of ${t.deploymentId} is gone from node ${this.nodeId}` });
        await this.untrack(t);
        return;
      }
      this.fail(failure, 'follow logs', t.deploymentId);
      this.later(() => this.follow(t, since), this.options.logRefollowDelayMs);
      return;
    }
    if (!this.stillRunning(t)) {
      follower.stop();
      return;
    }
    t.follower = follower;
    this.runInBackground(
      follower.done.then(() => {
        if (this.stopped || t.phase !== 'running' || t.follower !== follower) return;
        // the stream ends when the container stops (a crash it restarts from): follow it again
        t.follower = undefined;
        const resumeAt = this.now();
        this.later(() => this.follow(t, resumeAt), this.options.logRefollowDelayMs);
      }),
      'follow logs',
      t.deploymentId,
    );
  }

  /** Lines a resumed log left out (its replay is bounded): counted as dropped, so the gap shows. */
  private logsSkipped(t: Tracked, lines: number): void {
    t.logs.countDropped(lines);
    this.counters.logLinesDropped += lines;
    this.emit('logs-dropped', { deploymentId: t.deploymentId, lines, reason: 'written while no agent read the log, beyond what a resume replays' });
  }

  /**
   * deploy.log is durable: this resolves once RabbitMQ confirmed the batch, waiting out a broker
   * outage (the batcher buffers new lines meanwhile). A batch refused for good (a full queue, an
   * outage longer than the publish timeout) counts as dropped.
   */
  private async sendLogBatch(body: DeployLogBody): Promise<boolean> {
    try {
      await this.broker.publish(this.options.queues.telemetry, createMessage(MessageType.DeployLog, body, this.meta()));
    } catch (error) {
      this.counters.logLinesDropped += body.lines.length;
      this.emit('logs-dropped', { deploymentId: body.deploymentId, lines: body.lines.length, reason: toKrakenError(error).message });
      this.fail(error, 'publish deploy.log', body.deploymentId);
      return false;
    }
    this.counters.logBatchesSent++;
    return true;
  }

  // ---- heartbeats and stats -------------------------------------------------------------------

  /** One heartbeat at a time: a slow probe or broker skips beats rather than piling them up. */
  private beat(): void {
    if (this.heartbeatInFlight !== undefined || this.stopped) return;
    this.heartbeatInFlight = this.heartbeat()
      .catch((error: unknown) => {
        this.fail(error, 'heartbeat');
      })
      .finally(() => {
        this.heartbeatInFlight = undefined;
      });
  }

  private async heartbeat(): Promise<void> {
    const system = await this.probe.sample();
    // A heartbeat says the agent lives, so it leaves on time even when the engine or an add-on is
    // slow to answer: waiting for a stalled dockerd's ping would make it late, and the leader's
    // failure detector would take a node whose engine hangs for a node that is gone. It waits a
    // moment for fresh answers, else carries the last ones (only the very first beat waits longer).
    const asking = this.readEngineAndExtensions();
    const fresh = await withTimeout(asking, READINGS_BUDGET_MS, () => undefined);
    const { engineHealthy, extensions } = fresh ?? this.lastReadings ?? (await asking);
    this.addresses = system.addresses;
    const body = this.nodeInfo(system, engineHealthy, extensions);
    if (this.stopped) return;
    await this.broker.publish(this.options.queues.telemetry, createMessage(MessageType.NodeInfo, body, this.meta()));
    this.counters.heartbeatsSent++;
    this.emit('heartbeat', body);
  }

  private nodeInfo(system: SystemSample, engineHealthy: boolean, extensions: NodeInfoExtensions | undefined): NodeInfoBody {
    return {
      nodeId: this.nodeId,
      hostname: system.hostname.slice(0, 253) || this.nodeId,
      addresses: system.addresses.slice(0, 64),
      arch: system.arch,
      cpu: system.cpu,
      ram: system.ram,
      load: system.load,
      uptimeSec: system.uptimeSec,
      ...(system.cpuBusyPercent === undefined ? {} : { cpuBusyPercent: system.cpuBusyPercent }),
      ...(system.disk === undefined ? {} : { disk: system.disk }),
      runtimes: engineHealthy ? [this.runtime] : [],
      ...(this.deployer.isolation === undefined ? {} : { isolation: this.deployer.isolation }),
      deployments: [...this.tracked.values()].filter((t) => t.phase === 'running').map((t) => t.deploymentId),
      working: [...this.tracked.values()].filter((t) => t.phase !== 'running').map((t) => t.deploymentId),
      failoverBuilds: this.failover.list(),
      protocolVersion: PROTOCOL_VERSION,
      ...(this.options.orchestrationPriority === undefined ? {} : { orchestrationPriority: this.options.orchestrationPriority }),
      // only a Docker runtime has an engine that can stop answering
      ...(this.runtime === Runtime.Docker ? { dockerHealthy: engineHealthy } : {}),
      ...(extensions === undefined ? {} : { extensions }),
    };
  }

  /** Undefined without a provider or when it failed; a failure is counted and emitted every time. */
  private async readExtensions(): Promise<NodeInfoExtensions | undefined> {
    if (this.extensionsProvider === undefined) return undefined;
    const result = await readNodeInfoExtensions(this.extensionsProvider, this.options.nodeInfoExtensionsTimeoutMs);
    if (result.ok) {
      if (this.extensionsProblem !== undefined) this.logger.info('node.info extensions are back');
      this.extensionsProblem = undefined;
      return result.value;
    }
    this.counters.failures++;
    this.emit('failure', result.error, { during: 'read node.info extensions' });
    if (result.error.message !== this.extensionsProblem) {
      this.extensionsProblem = result.error.message;
      this.logger.warn('node.info goes out without extensions until the provider recovers', { error: result.error });
    }
    return undefined;
  }

  private readEngineAndExtensions(): Promise<HeartbeatReadings> {
    this.readingsInFlight ??= Promise.all([this.pingEngine(), this.readExtensions()])
      .then(([engineHealthy, extensions]) => (this.lastReadings = { engineHealthy, extensions }))
      .finally(() => {
        this.readingsInFlight = undefined;
      });
    return this.readingsInFlight;
  }

  private async pingEngine(): Promise<boolean> {
    try {
      return await withTimeout(
        this.engine.ping().then(() => true),
        this.options.enginePingTimeoutMs,
        () => false,
      );
    } catch (error) {
      this.logger.debug('container engine did not answer a ping', { error });
      return false;
    }
  }

  /**
   * Paces app stats by whether anyone watches the cluster (the leader says so): while someone
   * does, every statsInterval, and a sample goes out at once so what they look at is fresh; while
   * nobody does, every idleStatsInterval. Until told, the worker assumes someone watches.
   */
  setWatched(watched: boolean): void {
    if (watched === this.watched || this.stopped) return;
    this.watched = watched;
    this.logger.debug(watched ? 'someone watches the cluster: app stats at the fast interval' : 'nobody watches the cluster: app stats at the slow interval');
    this.scheduleStats();
    if (watched) this.sampleAllStats();
  }

  private scheduleStats(): void {
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(
      () => {
        this.sampleAllStats();
      },
      this.watched ? this.options.statsIntervalMs : this.options.idleStatsIntervalMs,
    );
  }

  private sampleAllStats(): void {
    for (const t of this.tracked.values()) {
      if (t.phase !== 'running' || t.statsInFlight) continue;
      t.statsInFlight = true;
      this.runInBackground(
        this.sampleStats(t).finally(() => {
          t.statsInFlight = false;
        }),
        'deploy stats',
        t.deploymentId,
      );
    }
  }

  private async sampleStats(t: Tracked): Promise<void> {
    const sample = await this.deployer.stats(t.deploymentId);
    if (this.stopped || t.phase !== 'running') return;
    const nonNegative = (value: number): number => (Number.isFinite(value) && value > 0 ? value : 0);
    const body = {
      deploymentId: t.deploymentId,
      cpuPercent: nonNegative(sample.cpuPercent),
      memMb: nonNegative(sample.memMb),
      maxMemMb: nonNegative(sample.maxMemMb),
      imageSizeMb: nonNegative(sample.imageSizeMb),
      at: isoTime(this.clock),
    };
    await this.broker.publish(this.options.queues.telemetry, createMessage(MessageType.DeployStats, body, this.meta()));
    this.counters.statsSent++;
  }

  // ---- status ---------------------------------------------------------------------------------

  private publishStatus(
    t: Tracked,
    status: DeploymentStatus,
    extra: { message?: string | undefined; force?: boolean; errorCode?: string; port?: number; restarts?: AppRestarts; readiness?: AppReadiness },
  ): void {
    if (status === t.status && extra.force !== true) return;
    t.status = status;
    const running = status === DeploymentStatus.Running;
    const restarts = extra.restarts ?? (running ? this.crashWatch.restartsOf(t.deploymentId) : undefined);
    const readiness = extra.readiness ?? (running ? this.readyWatch.readinessOf(t.deploymentId) : undefined);
    this.sendStatus({
      deploymentId: t.deploymentId,
      status,
      ...(extra.message === undefined ? {} : { message: extra.message }),
      ...(extra.errorCode === undefined ? {} : { errorCode: extra.errorCode }),
      ...(extra.port === undefined ? {} : { port: extra.port }),
      ...(t.attempt === undefined ? {} : { attempt: t.attempt }),
      ...(running && t.commit !== undefined ? { commit: t.commit } : {}),
      ...(running && t.port !== undefined ? { port: t.port } : {}),
      ...(running && t.url !== undefined ? { url: t.url } : {}),
      ...(restarts === undefined ? {} : { restarts }),
      ...(readiness === undefined ? {} : { readiness }),
    });
  }

  private publishUntracked(deploymentId: string, status: DeploymentStatus, message: string): void {
    this.sendStatus({ deploymentId, status, message });
  }

  private sendStatus(fields: Omit<DeployStatusBody, 'at' | 'nodeId'>): void {
    // strictly increasing, so two changes in one millisecond still sort in the order they happened
    const atMs = Math.max(this.clock.now(), this.lastStatusAt + 1);
    this.lastStatusAt = atMs;
    // a failed clone quotes the git URL, credentials and all: they go no further than this node
    const shown = fields.message === undefined ? undefined : redactCredentials(fields.message).slice(0, 8_000);
    const body: DeployStatusBody = { ...fields, message: shown, at: new Date(atMs).toISOString(), nodeId: this.nodeId };
    if (body.message === undefined) delete body.message;
    this.emit('status', body);
    this.logger.info('deployment status', { deploymentId: body.deploymentId, status: body.status, message: body.message });
    const message = createMessage(MessageType.DeployStatus, body, { ...this.meta(), at: body.at });
    this.statusChain = this.statusChain
      .then(() => this.broker.publish(this.options.queues.orchestrator, message))
      .catch((error: unknown) => {
        this.fail(error, 'publish deploy.status', body.deploymentId);
      });
  }

  // ---- plumbing -------------------------------------------------------------------------------

  // Read through methods: the compiler would keep a field narrowed across awaits, where it changes.
  private isStopped(): boolean {
    return this.stopped;
  }

  private stillRunning(t: Tracked): boolean {
    return !this.stopped && t.phase === 'running';
  }

  private meta(): { from: string; epoch: number } {
    return { from: this.nodeId, epoch: this.highestEpoch };
  }

  private urlFor(hostPort: number): string {
    const host = this.options.publicHost ?? this.addresses[0] ?? '127.0.0.1';
    return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${hostPort}`;
  }

  /** Runs `work` after `ms` unless the worker stops first. */
  private later(work: () => Promise<void>, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.runInBackground(work(), 'scheduled work');
    }, ms);
    this.timers.add(timer);
  }

  /** Keeps a background task's rejection from ever becoming an unhandled rejection. */
  private now(): Date {
    return new Date(this.clock.now());
  }

  private runInBackground(task: Promise<void>, during: string, deploymentId?: string): void {
    const guarded = task.catch((error: unknown) => {
      this.fail(error, during, deploymentId);
    });
    this.background.add(guarded);
    void guarded.finally(() => this.background.delete(guarded));
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

function describePhase(phase: Phase): string {
  switch (phase) {
    case 'queued':
      return 'waiting for a deploy slot';
    case 'deploying':
      return 'being deployed';
    case 'running':
      return 'running';
    case 'destroying':
      return 'being destroyed';
  }
}

/** What a Running status says about how the deploy got there, when it was not a plain build. */
function runningMessage(result: { reused: boolean; buildReused?: boolean; fromKept?: boolean; commit: string }): string | undefined {
  if (result.reused) return 'already running on this node; reused its container';
  if (result.buildReused === true) return `restarted with the changed settings from the build of ${result.commit.slice(0, 7)}; nothing was rebuilt`;
  if (result.fromKept === true) return `running the kept build of ${result.commit.slice(0, 7)}; nothing was rebuilt`;
  if (result.fromKept === false) return `no build of ${result.commit.slice(0, 7)} was kept on this node; it was built again`;
  return undefined;
}
