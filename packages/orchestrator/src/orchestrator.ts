import type { Broker, Subscription } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { ErrorCode, KrakenError, TypedEmitter, noopLogger, systemClock, toKrakenError } from '@kraken/common';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DeliveryClass, DeploymentStatus as Status, LifecycleAction, MessageType, createMessage } from '@kraken/messages';
import { NodeCommands } from './dispatch/node-commands.js';
import { redrive } from './dispatch/redrive.js';
import { WorkSender } from './dispatch/work-sender.js';
import type { EmitEvent, OrchestratorEvents } from './events.js';
import type { ResolveBranchHead } from './git/git-head.js';
import { gitLsRemote } from './git/git-head.js';
import { StatusReports } from './inbox/status-reports.js';
import { isAdopted } from './store/adopted.js';
import { WorkerInbox } from './inbox/worker-inbox.js';
import { LeaderTerm } from './leadership/leader-term.js';
import type { CreateDeploymentInput } from './lifecycle/deployment-commands.js';
import { DeploymentCommands } from './lifecycle/deployment-commands.js';
import { retentionCutoff } from './lifecycle/removal.js';
import { EngineWatch } from './liveness/engine-watch.js';
import type { NodeDetection } from './liveness/liveness.js';
import { Liveness } from './liveness/liveness.js';
import { startLoopTimer } from './liveness/loop-timer.js';
import { NodeTransitions } from './liveness/node-transitions.js';
import { NotificationFeed } from './notifications/notification-feed.js';
import type { CompiledOrchestratorOptions, OrchestratorOptions } from './options.js';
import { compileOrchestratorOptions } from './options.js';
import { Releases, ReleaseTrigger } from './releases/releases.js';
import type { FailoverView } from './scheduling/failover-builds.js';
import { FailoverKeeper } from './scheduling/failover-keeper.js';
import type { EnvChange } from './settings/env-change.js';
import type { NodeSample } from './stats/node-history.js';
import { NodeHistory } from './stats/node-history.js';
import type { StatsSample } from './stats/stats-history.js';
import { StatsHistory } from './stats/stats-history.js';
import type { OrchestratorStore } from './store/orchestrator-store.js';
import type { DeploymentRecord, NodeRecord } from './store/records.js';
import { BranchWatcher } from './watch/branch-watcher.js';

export interface OrchestratorCreateOptions {
  broker: Broker;
  store: OrchestratorStore;
  /** This orchestrator's node id: the `from` of what it sends. */
  nodeId: string;
  /** @default noopLogger */
  logger?: Logger;
  /** @default the system clock */
  clock?: Clock;
  /** How watched branches are read. @default `git ls-remote` with a 15 s timeout */
  resolveBranchHead?: ResolveBranchHead;
  options?: OrchestratorOptions;
  /**
   * Whether this orchestrator still leads (its lease), asked before every command it sends, every
   * message it takes and every pass of its loop: one that stopped leading, even one frozen and
   * replaced meanwhile, does nothing until it is closed. @default always
   */
  mayAct?: () => boolean;
  /**
   * Resolves once every change the store committed so far is confirmed on its way to the standbys
   * (StatePublisher.durable). A worker's status or log batch is acked only after its change is: a
   * leader that dies having stored it, but before the standbys have it, leaves it in the queue for
   * the next leader instead of losing it. @default resolved at once (nobody follows this store)
   */
  replicated?: () => Promise<void>;
}

/** What the loop has done that is worth watching, since it started. */
export interface OrchestratorCounters {
  /** deploy.status messages ignored because they would have moved a deployment backwards. */
  staleStatusesIgnored: number;
  /** Deployments placed again because their host port was taken on the node. */
  portsRetried: number;
  /** Deployments placed on another node because their node's Docker engine did not answer the request. */
  engineDownRetried: number;
  /** Redeploys started because a watched branch got a new commit. */
  watchRedeploys: number;
  /** Reads of watched branch heads that failed (each is retried the next round). */
  watchFailures: number;
}

export type { CreateDeploymentInput } from './lifecycle/deployment-commands.js';
export type { OrchestratorEvents } from './events.js';
export { ADOPTED_SOURCE } from './store/adopted.js';

/**
 * The control loop: keeps the store in step with what workers report, places deployments,
 * watches liveness and moves the apps of dead nodes. One instance per leader term (epoch).
 * The API and the agent talk only to it; it wires the parts that do the work (inbox/ for what
 * nodes send, lifecycle/deployment-commands.ts for what users ask, liveness/node-transitions.ts
 * for nodes that die or come back, dispatch/ for what all of them send) and runs the loop.
 */
export class Orchestrator extends TypedEmitter<OrchestratorEvents> implements AsyncDisposable {
  readonly nodeId: string;
  /** This orchestrator's leader term, bumped on every start; workers ignore older commands. */
  readonly epoch: number;
  private readonly broker: Broker;
  private readonly store: OrchestratorStore;
  private readonly logger: Logger;
  private readonly options: CompiledOrchestratorOptions;
  private readonly liveness: Liveness;
  private readonly subscriptions: Subscription[] = [];
  private readonly failoverBuilds: FailoverKeeper;
  private readonly clock: Clock;
  private readonly watcher: BranchWatcher | undefined;
  private readonly statsHistory: StatsHistory;
  private readonly nodeHistory: NodeHistory;
  /** Failed deploys, moved apps and dead nodes of this term, for the API and the webhook. */
  readonly notifications: NotificationFeed;
  /** Each build of a deployment; other features start theirs with `releases.startRelease`. */
  readonly releases: Releases;
  private timer: NodeJS.Timeout | undefined;
  private readonly term: LeaderTerm;
  private readonly commands: NodeCommands;
  private readonly work: WorkSender;
  private readonly transitions: NodeTransitions;
  private readonly statuses: StatusReports;
  private readonly inbox: WorkerInbox;
  private readonly deploymentCommands: DeploymentCommands;
  private closed = false;

  private constructor(create: OrchestratorCreateOptions, options: CompiledOrchestratorOptions) {
    super();
    this.broker = create.broker;
    this.store = create.store;
    this.nodeId = create.nodeId;
    this.options = options;
    this.logger = (create.logger ?? noopLogger).child({ component: 'orchestrator' });
    const clock = create.clock ?? systemClock;
    this.clock = clock;
    this.liveness = new Liveness(clock, options.liveness);
    this.statsHistory = new StatsHistory(options.statsSamples);
    this.nodeHistory = new NodeHistory(options.nodeSamples, options.nodeSampleIntervalMs);
    this.notifications = new NotificationFeed({ clock });
    this.releases = new Releases(this.store, clock);
    this.epoch = this.store.nextEpoch();
    this.term = new LeaderTerm(this.nodeId, this.epoch, create.mayAct ?? (() => true));
    this.commands = new NodeCommands(this.broker, options.queues, this.term);
    this.failoverBuilds = new FailoverKeeper({
      store: this.store,
      defaultMemoryMb: options.defaultMemoryMb,
      logger: this.logger,
      prepare: (nodeId, body) => this.commands.send(nodeId, createMessage(MessageType.DeployPrepare, body, this.term.meta())),
      buildable: (deployment) => !isAdopted(deployment),
    });
    const emit: EmitEvent = (event, ...args) => {
      this.emit(event, ...args);
    };
    // what every part shares; each takes the rest of what it needs by name
    const shared = { store: this.store, logger: this.logger, term: this.term, commands: this.commands, emit };
    this.work = new WorkSender({ ...shared, options, failoverBuilds: this.failoverBuilds });
    const { liveness, notifications, releases, work } = this;
    const engineWatch = new EngineWatch(options.engineDownGraceMs);
    this.transitions = new NodeTransitions({ ...shared, broker: this.broker, queues: options.queues, clock, liveness, engineWatch, notifications, work });
    this.deploymentCommands = new DeploymentCommands({ ...shared, work, releases });
    this.statuses = new StatusReports({ ...shared, work, releases, notifications, clock, engineWatch });
    this.inbox = new WorkerInbox({
      ...shared,
      clock,
      heartbeatIntervalMs: options.liveness.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      replicated: create.replicated ?? (() => Promise.resolve()),
      liveness,
      failoverBuilds: this.failoverBuilds,
      nodeHistory: this.nodeHistory,
      statsHistory: this.statsHistory,
      transitions: this.transitions,
      statuses: this.statuses,
      work,
    });
    // a destroyed app sends no more stats: its samples would only take memory
    this.on('deploymentChanged', (deployment) => {
      if (deployment.status === Status.Destroyed) this.statsHistory.forget(deployment.id);
      this.releases.follow(deployment);
    });
    if (options.watchIntervalMs > 0) {
      this.watcher = new BranchWatcher({
        resolveBranchHead: create.resolveBranchHead ?? gitLsRemote(),
        clock,
        intervalMs: options.watchIntervalMs,
        logger: this.logger.child({ component: 'branch-watcher' }),
        deployments: () => this.store.deployments.list(),
        getDeployment: (id) => this.store.deployments.get(id),
        redeploy: (id) => this.redeploy(id, ReleaseTrigger.Watch),
      });
    }
  }

  /**
   * Starts a leader term: bumps the epoch, declares and consumes the orchestrator queues,
   * re-drives deployments that were mid-flight, and starts ticking.
   */
  static async create(create: OrchestratorCreateOptions): Promise<Orchestrator> {
    const orchestrator = new Orchestrator(create, compileOrchestratorOptions(create.options));
    await orchestrator.start();
    return orchestrator;
  }

  private readonly onBrokerDown = (): void => {
    this.liveness.deafen();
    this.logger.warn('lost the broker: no node is judged dead until it is back');
  };

  private readonly onBrokerUp = (): void => {
    this.liveness.hearAgain();
  };

  private async start(): Promise<void> {
    const { queues } = this.options;
    for (const node of this.store.nodes.list()) this.liveness.restore(node.id, node.state);
    this.broker.on('disconnected', this.onBrokerDown);
    this.broker.on('connected', this.onBrokerUp);
    await this.broker.declareQueue(queues.orchestrator, { class: DeliveryClass.Durable });
    await this.broker.declareQueue(queues.telemetry, { class: DeliveryClass.Telemetry });
    this.subscriptions.push(await this.broker.consume(queues.orchestrator, (delivery) => this.inbox.handle(delivery)));
    this.subscriptions.push(await this.broker.consume(queues.telemetry, (delivery) => this.inbox.handle(delivery)));
    await this.term.exclusive(() => this.announceElection());
    await this.term.exclusive(() =>
      redrive({
        store: this.store,
        logger: this.logger,
        term: this.term,
        commands: this.commands,
        work: this.work,
        evacuate: (nodeId, why) => this.transitions.evacuate(nodeId, why),
      }),
    );
    if (this.options.tickIntervalMs > 0) {
      this.timer = startLoopTimer(
        this.options.tickIntervalMs,
        () => {
          void this.tick();
        },
        (frozenMs) => {
          // judging nodes by the silence it could not hear would move every app in the cluster
          this.logger.warn('this orchestrator was frozen: no node is judged on the silence it could not hear', { frozenMs });
          this.liveness.pardon();
        },
      );
    }
    this.logger.info('orchestrator started', { nodeId: this.nodeId, epoch: this.epoch });
  }

  // ---- API for callers (the GraphQL/REST slice, the agent) ----

  /** Validates, stores (DeploymentRequested), places and requests a new deployment. */
  createDeployment(input: CreateDeploymentInput): Promise<DeploymentRecord> {
    return this.deploymentCommands.create(input);
  }

  /** Marks a deployment for destruction and tells its node to cancel it. */
  cancelDeployment(id: string, reason = 'cancelled by the user'): Promise<DeploymentRecord> {
    return this.deploymentCommands.cancel(id, reason);
  }

  /**
   * Takes a Destroyed or Errored deployment off the lists (a Conflict for any other status: cancel
   * it first) and frees its name. It and its log stay readable by id for the removedRetentionMs
   * option, then tick() deletes them. Removing it again returns it unchanged.
   */
  removeDeployment(id: string): Promise<DeploymentRecord> {
    return this.deploymentCommands.remove(id);
  }

  /**
   * Stops a Running deployment on its node without destroying it: its record, image or built
   * folder, name, port and log stay, and it reports Stopped. Failover leaves it where it is.
   */
  stopDeployment(id: string, reason = 'stopped by the user'): Promise<DeploymentRecord> {
    return this.deploymentCommands.control(id, LifecycleAction.Stop, reason);
  }

  /** Runs a Stopped deployment again from what its node built, with no build and no test. */
  startDeployment(id: string, reason = 'started by the user'): Promise<DeploymentRecord> {
    return this.deploymentCommands.control(id, LifecycleAction.Start, reason);
  }

  /**
   * Stops and starts a Running (or starts a Stopped) deployment in place, with no build: the one
   * path for anything that needs the app to run again as built (new settings, a stuck app).
   */
  restartDeployment(id: string, reason = 'restarted by the user'): Promise<DeploymentRecord> {
    return this.deploymentCommands.control(id, LifecycleAction.Restart, reason);
  }

  /**
   * Deploys the branch head again, on the same node while it can run it, else on the best one, as
   * a new release caused by `trigger`.
   */
  redeploy(id: string, trigger: string = ReleaseTrigger.Redeploy): Promise<DeploymentRecord> {
    return this.deploymentCommands.redeploy(id, trigger);
  }

  /** Runs an earlier successful release's commit again from the build its node kept (rules in releases/rollback.ts). */
  rollback(id: string, commit?: string): Promise<DeploymentRecord> {
    return this.deploymentCommands.rollback(id, commit);
  }

  /**
   * Changes a deployment's environment (rules in settings/env-change.ts): a running app restarts
   * with the new values from the build it runs, an errored one keeps them for its next deploy.
   */
  changeEnv(id: string, change: EnvChange): Promise<DeploymentRecord> {
    return this.deploymentCommands.changeEnv(id, change);
  }

  getDeployment(id: string): DeploymentRecord | undefined {
    return this.store.deployments.get(id);
  }

  /**
   * Turns branch watching on or off for a deployment. The watcher reads the flag every round, so
   * it takes effect from the next one (a round in progress re-reads it before redeploying).
   */
  setWatch(id: string, watch: boolean): Promise<DeploymentRecord> {
    return this.deploymentCommands.setWatch(id, watch);
  }

  /**
   * The deployment's recent CPU and memory samples, oldest first, as this orchestrator received
   * them since it started (bounded by the statsSamples option). NOT_FOUND for an unknown id.
   */
  statsSamples(id: string): readonly StatsSample[] {
    this.store.deployments.require(id);
    return this.statsHistory.samples(id);
  }

  /**
   * The node's recent CPU, memory and disk samples, oldest first, one per nodeSampleIntervalMs, as
   * this orchestrator received them since it started. NOT_FOUND for an unknown id.
   */
  nodeSamples(id: string): readonly NodeSample[] {
    if (this.store.nodes.get(id) === undefined) throw new KrakenError(ErrorCode.NotFound, `no node with id ${id}`, { nodeId: id });
    return this.nodeHistory.samples(id);
  }

  /** A copy of the counters. */
  get counters(): OrchestratorCounters {
    const watch = this.watcher?.counters;
    return { ...this.statuses.counts, watchRedeploys: watch?.redeploys ?? 0, watchFailures: watch?.failures ?? 0 };
  }

  listDeployments(): DeploymentRecord[] {
    return this.store.deployments.list();
  }

  listNodes(): NodeRecord[] {
    return this.store.nodes.list();
  }

  /**
   * One pass of the loop: applies liveness (moving the apps of nodes that died), retries
   * deployments waiting for a node, deletes removed deployments past their retention (with their
   * logs), and starts a round of branch watching when one is due
   * (awaited, though it runs outside the one-at-a-time chain, so a slow git remote holds up
   * nothing else). Never throws: a failed pass is logged and the next one runs.
   */
  async tick(): Promise<void> {
    if (this.closed || !this.term.leads) return;
    try {
      await this.term.exclusive(async () => {
        const now = this.clock.now();
        await this.transitions.askWhoIsConnected(now);
        for (const transition of this.liveness.check(now)) await this.transitions.onTransition(transition);
        for (const deployment of this.store.deployments.list()) {
          if (deployment.status === Status.DeploymentRequested && deployment.nodeId === null) {
            await this.work.placeAndRequest(deployment, { attempt: deployment.attempt });
          }
        }
        await this.failoverBuilds.keep(now);
        const purged = this.store.deployments.purgeRemoved(retentionCutoff(this.clock.now(), this.options.removedRetentionMs));
        if (purged.length > 0) this.logger.info('deleted removed deployments past their retention, with their logs', { deploymentIds: purged });
      });
    } catch (error) {
      this.logger.error('orchestrator tick failed', { error: toKrakenError(error) });
    }
    await this.watcher?.poll();
  }

  /** Stops ticking and consuming; waits for the operation in progress. Leaves broker and store open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.broker.off('disconnected', this.onBrokerDown);
    this.broker.off('connected', this.onBrokerUp);
    await this.watcher?.close();
    await Promise.allSettled(this.subscriptions.map((subscription) => subscription.cancel()));
    await this.term.settled();
    this.logger.info('orchestrator stopped', { epoch: this.epoch });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * A signed pulse of `nodeId` arrived (PulseListener): it is reachable, so silence on the broker
   * does not declare it dead. Returns whether it was taken (not for unknown or dead nodes).
   */
  pulse(nodeId: string): boolean {
    return this.liveness.pulse(nodeId);
  }

  /** What this leader's failure detector has learned of a node; undefined before its first heartbeat here. */
  nodeDetection(nodeId: string): NodeDetection | undefined {
    return this.liveness.detection(nodeId);
  }

  /** Where the deployment's failover build stands: which node, and whether a move there would be a start. */
  failover(id: string): FailoverView | undefined {
    return this.failoverBuilds.view(id);
  }

  /**
   * Tells every node this term began, ahead of any command in its queue: a command of the former
   * leader that arrives later (resent after a reconnect, or sent by one that was frozen) is refused.
   */
  private async announceElection(): Promise<void> {
    const elected = createMessage(MessageType.LeaderElected, { leaderId: this.nodeId }, this.term.meta());
    for (const node of this.store.nodes.list()) await this.commands.send(node.id, elected);
  }

  /** Whether this orchestrator still holds the lease (a former leader winding down does not). */
  get leads(): boolean {
    return this.term.leads;
  }
}
