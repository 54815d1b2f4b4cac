import type { Broker, Delivery, Subscription } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, TypedEmitter, noopLogger, toKrakenError } from '@kraken/common';
import type { DeploymentStatus, MessageOf } from '@kraken/messages';
import {
  BrokerUsers,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEPLOYMENT_NAME_PATTERN,
  DEPLOYMENT_NAME_RULE,
  DeliveryClass,
  DeploymentStatus as Status,
  LifecycleAction,
  MessageType,
  Runtime,
  createMessage,
  isStoppedStatus,
  isTerminalStatus,
  validateBody,
} from '@kraken/messages';
import type { Clock } from '@kraken/common';
import { isoTime, systemClock } from '@kraken/common';
import { newDeploymentId, repositorySlug, uniqueName } from './deployment-id.js';
import type { ResolveBranchHead } from './git/git-head.js';
import { gitLsRemote } from './git/git-head.js';
import type { BrokerAnswer, NodeDetection, NodeTransition } from './liveness/liveness.js';
import { EngineWatch } from './liveness/engine-watch.js';
import { Liveness } from './liveness/liveness.js';
import type { CompiledOrchestratorOptions, OrchestratorOptions } from './options.js';
import { compileOrchestratorOptions } from './options.js';
import { planLifecycle } from './lifecycle/controls.js';
import { assertRemovable, retentionCutoff } from './lifecycle/removal.js';
import { placeDeployment } from './scheduling/place-deployment.js';
import type { FailoverView } from './scheduling/failover-builds.js';
import { FailoverKeeper } from './scheduling/failover-keeper.js';
import { planEnvChange } from './settings/env-change.js';
import type { EnvChange } from './settings/env-change.js';
import { Releases, ReleaseTrigger } from './releases/releases.js';
import { planRollback } from './releases/rollback.js';
import { isStaleStatus } from './status-order.js';
import { BranchWatcher } from './watch/branch-watcher.js';
import { allocatePort } from './scheduling/ports.js';
import { appMoved, deployFailed, nodeDead } from './notifications/notification.js';
import { NotificationFeed } from './notifications/notification-feed.js';
import type { StatsSample } from './stats/stats-history.js';
import { NodeHistory } from './stats/node-history.js';
import type { NodeSample } from './stats/node-history.js';
import { StatsHistory } from './stats/stats-history.js';
import type { OrchestratorStore } from './store/orchestrator-store.js';
import type { DeploymentRecord, NodeRecord, StatusChange, StoredLogLine } from './store/records.js';
import { NodeState } from './store/records.js';

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

export interface CreateDeploymentInput {
  srcUrl: string;
  /** @default 'main' */
  branch?: string;
  env?: Record<string, string>;
  /** Redeploy on new commits of the branch. @default false */
  watch?: boolean;
  /** @default docker when a live node has it, else process when a live node has that */
  runtime?: Runtime;
  /** RAM the app needs; scheduling reserves it and the worker enforces it. */
  memoryMb?: number;
  /**
   * The name the ingress answers for; taken already is a Conflict. @default the repository's name,
   * with `-2`, `-3`... when a live deployment has it
   */
  name?: string;
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

export type OrchestratorEvents = {
  /** After any change of a deployment (status, placement, stats) is stored. */
  deploymentChanged: [deployment: DeploymentRecord];
  /** After a node.info or a liveness transition is stored; `transition` when its state changed. */
  nodeChanged: [node: NodeRecord, transition: NodeTransition | undefined];
  /** Log lines just stored, with their seqs. */
  logLines: [deploymentId: string, lines: StoredLogLine[]];
};

/**
 * Host ports one deployment may find taken on its node before it ends Errored. Each costs a round
 * trip (the node checks the port before it clones anything) and is remembered for every later
 * deployment; the cap only stops a node that refuses every port from looping. Other programs on a
 * few ports in the range (20000-20003 on a busy machine) are skipped past; 3 was not enough.
 */
const MAX_PORT_RETRIES = 32;
/**
 * How often one deployment is placed elsewhere because the node's engine did not answer its
 * request: more than the nodes of a small cluster, so each may fail once, yet bounded when every
 * engine is down (tick() may place it back on a node it failed on).
 */
const MAX_ENGINE_DOWN_RETRIES = 8;
/** A gap between loop passes this long means the process was frozen, not that every node went quiet. */
const STALL_MS = 3_000;

// A deploy request is out with the worker: it reports its progress or has lost it.
const deployingStatuses: ReadonlySet<DeploymentStatus> = new Set([
  Status.DelegatingDeployment,
  Status.ValidatingDeploymentData,
  Status.RetrievingApplicationData,
  Status.BuildingDeployment,
  Status.TestingDeployment,
  Status.Deploying,
]);

// Statuses a worker is working through: after a restart the orchestrator waits for its report.
const destructionStatuses: ReadonlySet<DeploymentStatus> = new Set([
  Status.DestructionRequested,
  Status.DelegatingDestruction,
  Status.DestructionInProgress,
]);

/**
 * The control loop: keeps the store in step with what workers report, places deployments,
 * watches liveness and moves the apps of dead nodes. One instance per leader term (epoch).
 */
/** What a node's deploy.status says besides its message, as the store records it. */
function reportedChange(message: MessageOf<typeof MessageType.DeployStatus>): StatusChange {
  const body = message.body;
  return {
    nodeId: body.nodeId,
    at: body.at,
    messageId: message.id,
    ...(body.commit === undefined ? {} : { commit: body.commit }),
    ...(body.port === undefined ? {} : { port: body.port }),
    ...(body.url === undefined ? {} : { url: body.url }),
    ...(body.restarts === undefined ? {} : { restarts: body.restarts }),
    ...(body.readiness === undefined ? {} : { readiness: body.readiness }),
  };
}

/** The source of a deployment adopted from a node's report: the report does not say it. */
export const ADOPTED_SOURCE = 'unknown:adopted';

export class Orchestrator extends TypedEmitter<OrchestratorEvents> implements AsyncDisposable {
  readonly nodeId: string;
  /** This orchestrator's leader term, bumped on every start; workers ignore older commands. */
  readonly epoch: number;
  private readonly broker: Broker;
  private readonly store: OrchestratorStore;
  private readonly logger: Logger;
  private readonly options: CompiledOrchestratorOptions;
  private readonly liveness: Liveness;
  private readonly engineWatch: EngineWatch;
  private readonly subscriptions: Subscription[] = [];
  private readonly declaredNodeQueues = new Set<string>();
  private readonly stats = { staleStatusesIgnored: 0, portsRetried: 0, engineDownRetried: 0 };
  /** Host ports a node reported taken by something else; new placements avoid them. */
  private readonly takenPorts = new Set<number>();
  /** Port retries per deployment, so a node where every port fails cannot loop forever. */
  private readonly portRetries = new Map<string, number>();
  private readonly engineDownRetries = new Map<string, number>();
  /** When lost work was last re-sent per deployment, so a slow worker is not flooded. */
  private readonly resentAt = new Map<string, number>();
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
  private readonly mayAct: () => boolean;
  private readonly replicated: () => Promise<void>;
  /** Operations that read, decide, write and publish run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();
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
    this.engineWatch = new EngineWatch(options.engineDownGraceMs);
    this.failoverBuilds = new FailoverKeeper({
      store: this.store,
      defaultMemoryMb: options.defaultMemoryMb,
      logger: this.logger,
      prepare: (nodeId, body) => this.sendCommand(nodeId, createMessage(MessageType.DeployPrepare, body, this.meta())),
      buildable: (deployment) => deployment.srcUrl !== ADOPTED_SOURCE,
    });
    this.mayAct = create.mayAct ?? (() => true);
    this.replicated = create.replicated ?? (() => Promise.resolve());
    this.epoch = this.store.nextEpoch();
    this.statsHistory = new StatsHistory(options.statsSamples);
    this.nodeHistory = new NodeHistory(options.nodeSamples, options.nodeSampleIntervalMs);
    this.notifications = new NotificationFeed({ clock });
    // a destroyed app sends no more stats: its samples would only take memory
    this.releases = new Releases(this.store, clock);
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
        deployments: () => this.store.listDeployments(),
        getDeployment: (id) => this.store.getDeployment(id),
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
    for (const node of this.store.listNodes()) this.liveness.restore(node.id, node.state);
    this.broker.on('disconnected', this.onBrokerDown);
    this.broker.on('connected', this.onBrokerUp);
    await this.broker.declareQueue(queues.orchestrator, { class: DeliveryClass.Durable });
    await this.broker.declareQueue(queues.telemetry, { class: DeliveryClass.Telemetry });
    this.subscriptions.push(await this.broker.consume(queues.orchestrator, (delivery) => this.handle(delivery)));
    this.subscriptions.push(await this.broker.consume(queues.telemetry, (delivery) => this.handle(delivery)));
    await this.exclusive(() => this.announceElection());
    await this.exclusive(() => this.redrive());
    if (this.options.tickIntervalMs > 0) {
      const { tickIntervalMs } = this.options;
      let lastTickAt = Date.now();
      this.timer = setInterval(() => {
        const now = Date.now();
        // A process frozen (SIGSTOP, a suspended machine, a long GC) heard no heartbeat meanwhile:
        // judging nodes by that silence would move every app in the cluster.
        if (now - lastTickAt > Math.max(5 * tickIntervalMs, STALL_MS)) {
          this.logger.warn('this orchestrator was frozen: no node is judged on the silence it could not hear', { frozenMs: now - lastTickAt });
          this.liveness.pardon();
        }
        lastTickAt = now;
        void this.tick();
      }, tickIntervalMs);
      this.timer.unref();
    }
    this.logger.info('orchestrator started', { nodeId: this.nodeId, epoch: this.epoch });
  }

  // ---- API for callers (the GraphQL/REST slice, the agent) ----

  /**
   * The runtime of a deployment that names none: Docker when any live node has it (apps are
   * isolated and limited there), else supervised processes when that is all the cluster has.
   */
  private defaultRuntime(): Runtime {
    const alive = this.store.listNodes().filter((node) => node.state === NodeState.Alive);
    if (alive.some((node) => node.info.runtimes.includes('docker'))) return 'docker';
    if (alive.some((node) => node.info.runtimes.includes('process'))) return 'process';
    return 'docker';
  }

  /** Validates, stores (DeploymentRequested), places and requests a new deployment. */
  async createDeployment(input: CreateDeploymentInput): Promise<DeploymentRecord> {
    this.requireLeads('create a deployment');
    const id = newDeploymentId(input.srcUrl);
    const branch = input.branch ?? 'main';
    if (input.name !== undefined && !DEPLOYMENT_NAME_PATTERN.test(input.name)) {
      throw new KrakenError(ErrorCode.InvalidInput, `name: ${DEPLOYMENT_NAME_RULE}, got ${JSON.stringify(input.name.slice(0, 80))}`, {
        details: { field: 'name' },
      });
    }
    if (input.memoryMb !== undefined && (!Number.isInteger(input.memoryMb) || input.memoryMb < 1)) {
      throw new KrakenError(ErrorCode.InvalidInput, `memoryMb: expected a positive integer, got ${String(input.memoryMb)}`, {
        details: { field: 'memoryMb' },
      });
    }
    // the same schema the worker will check, so a request that cannot be sent is never stored
    const validation = validateBody(MessageType.DeployRequest, {
      deploymentId: id,
      srcUrl: input.srcUrl,
      branch,
      ...(input.env === undefined ? {} : { env: input.env }),
      ...(input.runtime === undefined ? {} : { runtime: input.runtime }),
    });
    if (!validation.ok) {
      throw new KrakenError(ErrorCode.InvalidInput, `cannot create deployment: ${validation.message}`, {
        details: { field: validation.field },
      });
    }
    return await this.exclusive(async () => {
      const created = this.store.createDeployment({
        id,
        srcUrl: input.srcUrl,
        branch,
        env: input.env ?? {},
        watch: input.watch ?? false,
        runtime: input.runtime ?? this.defaultRuntime(),
        memoryMb: input.memoryMb ?? null,
        // chosen inside the exclusive section, so two deploys of one repository get two names
        name: input.name ?? uniqueName(repositorySlug(input.srcUrl), (name) => this.store.liveDeploymentNamed(name) !== undefined),
      });
      this.releases.startRelease(id, null, ReleaseTrigger.Created);
      this.emit('deploymentChanged', created);
      this.logger.info('deployment requested', { deploymentId: id, srcUrl: input.srcUrl, branch });
      return this.placeAndRequest(created, { attempt: 1 });
    });
  }

  /** Marks a deployment for destruction and tells its node to cancel it. */
  cancelDeployment(id: string, reason = 'cancelled by the user'): Promise<DeploymentRecord> {
    return this.exclusive(async () => {
      this.requireLeads('cancel a deployment');
      const deployment = this.store.requireDeployment(id);
      if (isTerminalStatus(deployment.status)) return deployment;
      const node = deployment.nodeId === null ? undefined : this.store.getNode(deployment.nodeId);
      if (deployment.nodeId === null || node === undefined || node.state === NodeState.Dead) {
        if (deployment.nodeId !== null) this.store.addPendingStop({ deploymentId: id, nodeId: deployment.nodeId, reason });
        return this.changeStatus(id, Status.Destroyed, `${reason}; it was not running on a live node`);
      }
      const changed = this.changeStatus(id, Status.DestructionRequested, reason);
      await this.sendCommand(
        deployment.nodeId,
        createMessage(MessageType.DeployCancel, { deploymentId: id, reason }, this.meta()),
      );
      return changed;
    });
  }

  /**
   * Takes a Destroyed or Errored deployment off the lists (a Conflict for any other status: cancel
   * it first) and frees its name. It and its log stay readable by id for the removedRetentionMs
   * option, then tick() deletes them. Removing it again returns it unchanged.
   */
  removeDeployment(id: string): Promise<DeploymentRecord> {
    return this.exclusive(() => {
      this.requireLeads('remove a deployment');
      const deployment = this.store.requireDeployment(id);
      if (deployment.removedAt !== null) return deployment;
      assertRemovable(deployment);
      const removed = this.store.markRemoved(id);
      this.emit('deploymentChanged', removed);
      this.logger.info('deployment removed', { deploymentId: id, status: removed.status });
      return removed;
    });
  }

  /**
   * Stops a Running deployment on its node without destroying it: its record, image or built
   * folder, name, port and log stay, and it reports Stopped. Failover leaves it where it is.
   */
  stopDeployment(id: string, reason = 'stopped by the user'): Promise<DeploymentRecord> {
    return this.controlDeployment(id, LifecycleAction.Stop, reason);
  }

  /** Runs a Stopped deployment again from what its node built, with no build and no test. */
  startDeployment(id: string, reason = 'started by the user'): Promise<DeploymentRecord> {
    return this.controlDeployment(id, LifecycleAction.Start, reason);
  }

  /**
   * Stops and starts a Running (or starts a Stopped) deployment in place, with no build: the one
   * path for anything that needs the app to run again as built (new settings, a stuck app).
   */
  restartDeployment(id: string, reason = 'restarted by the user'): Promise<DeploymentRecord> {
    return this.controlDeployment(id, LifecycleAction.Restart, reason);
  }

  private controlDeployment(id: string, action: LifecycleAction, reason: string): Promise<DeploymentRecord> {
    return this.exclusive(async () => {
      this.requireLeads(`${action} a deployment`, id);
      const deployment = this.store.requireDeployment(id);
      const plan = planLifecycle(deployment, action, deployment.nodeId === null ? undefined : this.store.getNode(deployment.nodeId));
      const current = plan.status === undefined ? deployment : this.changeStatus(id, plan.status.status, plan.status.message);
      await this.sendCommand(
        plan.nodeId,
        createMessage(MessageType.DeployLifecycle, { deploymentId: id, action, attempt: current.attempt, reason }, this.meta()),
      );
      this.logger.info(`deployment ${action} requested`, { deploymentId: id, nodeId: plan.nodeId });
      return current;
    });
  }

  /**
   * Deploys the branch head again, on the same node while it can run it, else on the best one, as
   * a new release caused by `trigger`.
   */
  redeploy(id: string, trigger: string = ReleaseTrigger.Redeploy): Promise<DeploymentRecord> {
    return this.exclusive(async () => {
      this.requireLeads('redeploy');
      const deployment = this.store.requireDeployment(id);
      if (deployment.removedAt !== null) {
        throw new KrakenError(ErrorCode.Conflict, `deployment ${id} was removed; deploy its repository again instead`, { deploymentId: id });
      }
      if (destructionStatuses.has(deployment.status) || deployment.status === Status.Destroyed) {
        throw new KrakenError(ErrorCode.Conflict, `deployment ${id} is ${deployment.status}; it cannot be redeployed`, {
          deploymentId: id,
        });
      }
      this.releases.startRelease(id, null, trigger);
      const node = deployment.nodeId === null ? undefined : this.store.getNode(deployment.nodeId);
      if (node?.state === NodeState.Alive && node.info.runtimes.includes(deployment.runtime)) {
        const updated = this.changeStatus(id, Status.UpdateRequested, 'redeploy requested', {
          attempt: deployment.attempt + 1,
          commit: null,
        });
        await this.sendRequest(updated);
        return updated;
      }
      return this.placeAndRequest({ ...deployment, commit: null }, { attempt: deployment.attempt + 1 });
    });
  }

  /** Runs an earlier successful release's commit again from the build its node kept (rules in releases/rollback.ts). */
  rollback(id: string, commit?: string): Promise<DeploymentRecord> {
    return this.exclusive(async () => {
      this.requireLeads('roll back', id);
      const deployment = this.store.requireDeployment(id);
      const plan = planRollback(deployment, this.releases.list(id), commit);
      this.releases.startRelease(id, plan.commit, plan.trigger);
      return this.restartFromBuild({ ...deployment, commit: plan.commit }, plan.reason);
    });
  }

  /**
   * Changes a deployment's environment (rules in settings/env-change.ts): a running app restarts
   * with the new values from the build it runs, an errored one keeps them for its next deploy.
   */
  changeEnv(id: string, change: EnvChange): Promise<DeploymentRecord> {
    return this.exclusive(async () => {
      this.requireLeads('change settings', id);
      const deployment = this.store.requireDeployment(id);
      const planned = planEnvChange(deployment, change);
      // names only: the values are secrets
      this.logger.info('settings changed', { deploymentId: id, change: planned.summary, effect: planned.effect });
      if (planned.effect === 'restart') {
        // a restart with other settings is a release of its own: its log and result are apart from the build's
        this.releases.startRelease(id, deployment.commit, `${ReleaseTrigger.Settings}: ${planned.summary}`);
        return this.restartFromBuild(deployment, `restarting with changed settings: ${planned.summary}`, { env: planned.env });
      }
      const stored = this.store.setEnv(id, planned.env);
      this.emit('deploymentChanged', stored);
      return stored;
    });
  }

  /**
   * The one place a running deployment restarts without a rebuild: its commit (or, for a rollback,
   * the earlier one in `deployment.commit`) is sent with `replace`, and the node's deployer starts it
   * from the build it has or kept. `reason` becomes the status message and so the history's record
   * of why. A node that cannot take it any more gets it placed afresh (which builds there).
   */
  private async restartFromBuild(deployment: DeploymentRecord, reason: string, patch: { env?: Record<string, string> } = {}): Promise<DeploymentRecord> {
    const node = deployment.nodeId === null ? undefined : this.store.getNode(deployment.nodeId);
    if (node?.state === NodeState.Alive && node.info.runtimes.includes(deployment.runtime)) {
      const updated = this.changeStatus(deployment.id, Status.UpdateRequested, reason, { ...patch, attempt: deployment.attempt + 1, commit: deployment.commit });
      await this.sendRequest(updated);
      return updated;
    }
    const stored = patch.env === undefined ? deployment : this.store.setEnv(deployment.id, patch.env);
    return this.placeAndRequest(stored, { attempt: deployment.attempt + 1, why: reason });
  }

  getDeployment(id: string): DeploymentRecord | undefined {
    return this.store.getDeployment(id);
  }

  /**
   * Turns branch watching on or off for a deployment. The watcher reads the flag every round, so
   * it takes effect from the next one (a round in progress re-reads it before redeploying).
   */
  setWatch(id: string, watch: boolean): Promise<DeploymentRecord> {
    return this.exclusive(() => {
      this.requireLeads('change branch watching');
      const deployment = this.store.requireDeployment(id);
      if (deployment.watch === watch) return deployment;
      const changed = this.store.setWatch(id, watch);
      this.emit('deploymentChanged', changed);
      this.logger.info(watch ? 'branch watching turned on' : 'branch watching turned off', { deploymentId: id, branch: changed.branch });
      return changed;
    });
  }

  /**
   * The deployment's recent CPU and memory samples, oldest first, as this orchestrator received
   * them since it started (bounded by the statsSamples option). NOT_FOUND for an unknown id.
   */
  statsSamples(id: string): readonly StatsSample[] {
    this.store.requireDeployment(id);
    return this.statsHistory.samples(id);
  }

  /**
   * The node's recent CPU, memory and disk samples, oldest first, one per nodeSampleIntervalMs, as
   * this orchestrator received them since it started. NOT_FOUND for an unknown id.
   */
  nodeSamples(id: string): readonly NodeSample[] {
    if (this.store.getNode(id) === undefined) throw new KrakenError(ErrorCode.NotFound, `no node with id ${id}`, { nodeId: id });
    return this.nodeHistory.samples(id);
  }

  /** A copy of the counters. */
  get counters(): OrchestratorCounters {
    const watch = this.watcher?.counters;
    return { ...this.stats, watchRedeploys: watch?.redeploys ?? 0, watchFailures: watch?.failures ?? 0 };
  }

  listDeployments(): DeploymentRecord[] {
    return this.store.listDeployments();
  }

  listNodes(): NodeRecord[] {
    return this.store.listNodes();
  }

  /**
   * One pass of the loop: applies liveness (moving the apps of nodes that died), retries
   * deployments waiting for a node, deletes removed deployments past their retention (with their
   * logs), and starts a round of branch watching when one is due
   * (awaited, though it runs outside the one-at-a-time chain, so a slow git remote holds up
   * nothing else). Never throws: a failed pass is logged and the next one runs.
   */
  async tick(): Promise<void> {
    if (this.closed || !this.mayAct()) return;
    try {
      await this.exclusive(async () => {
        const now = this.clock.now();
        await this.askWhoIsConnected(now);
        for (const transition of this.liveness.check(now)) await this.onTransition(transition);
        for (const deployment of this.store.listDeployments()) {
          if (deployment.status === Status.DeploymentRequested && deployment.nodeId === null) {
            await this.placeAndRequest(deployment, { attempt: deployment.attempt });
          }
        }
        await this.failoverBuilds.keep(now);
        const purged = this.store.purgeRemoved(retentionCutoff(this.clock.now(), this.options.removedRetentionMs));
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
    await this.chain.catch(() => undefined);
    this.logger.info('orchestrator stopped', { epoch: this.epoch });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- consuming ----

  private async handle(delivery: Delivery): Promise<void> {
    const { message } = delivery;
    if (!this.mayAct()) {
      // the leader that holds the lease takes it from the queue
      delivery.nack({ requeue: true });
      return;
    }
    const impersonation = impersonationOf(delivery);
    if (impersonation !== undefined) {
      this.logger.warn('refused a message sent as another node', { type: message.type, messageId: message.id, from: message.from, publisher: delivery.publisher });
      delivery.nack({ requeue: false, reason: impersonation });
      return;
    }
    try {
      switch (message.type) {
        case MessageType.NodeInfo:
          await this.exclusive(() => this.onNodeInfo(message));
          return;
        // acked (by returning) once what they changed has left for the standbys, not before
        case MessageType.DeployStatus:
          this.onStatus(message, delivery);
          await this.replicated();
          return;
        case MessageType.DeployLog:
          this.onLog(message);
          await this.replicated();
          return;
        case MessageType.DeployStats:
          this.onStats(message);
          return;
        default:
          delivery.nack({ requeue: false, reason: `${message.type} is not for the orchestrator (queue ${delivery.queue})` });
      }
    } catch (error) {
      // Rethrown: the broker redelivers, then dead-letters; the loop itself carries on.
      const failure = toKrakenError(error);
      this.logger.error('handling a message failed', {
        type: message.type,
        messageId: message.id,
        from: message.from,
        error: failure,
      });
      throw failure;
    }
  }

  private async onNodeInfo(message: MessageOf<typeof MessageType.NodeInfo>): Promise<void> {
    const info = message.body;
    if (message.from !== info.nodeId) {
      this.logger.warn('ignoring node.info sent on behalf of another node', { from: message.from, nodeId: info.nodeId });
      return;
    }
    const transition = this.liveness.beat(info.nodeId, { stopping: info.stopping === true });
    const node = this.store.upsertNode(info, NodeState.Alive);
    this.failoverBuilds.report(info.nodeId, info.failoverBuilds);
    this.nodeHistory.recordHeartbeat(info, isoTime(this.clock));
    if (transition === undefined) this.emit('nodeChanged', node, undefined);
    else await this.onTransition(transition);
    await this.onEngineReport(info.nodeId, info.dockerHealthy);
    await this.resendLostWork(info);
  }

  /**
   * A node that restarted (agent killed, machine rebooted) has forgotten the commands it was
   * working on. Its heartbeat says what it runs and what it works on; a deployment placed there,
   * in flight for a while, and in neither list gets its command again. Duplicates are harmless:
   * a worker reports what it has instead of doing the work twice.
   */
  private async resendLostWork(info: MessageOf<typeof MessageType.NodeInfo>['body']): Promise<void> {
    if (info.working === undefined) return; // an older worker that does not say
    const held = new Set([...info.deployments, ...info.working]);
    const now = this.clock.now();
    const quietMs = 3 * (this.options.liveness.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
    for (const deployment of this.store.listDeployments({ nodeId: info.nodeId })) {
      if (held.has(deployment.id) || isTerminalStatus(deployment.status)) continue;
      const inFlight = deployingStatuses.has(deployment.status);
      const destroying = destructionStatuses.has(deployment.status);
      if (!inFlight && !destroying) continue;
      const since = Math.max(Date.parse(deployment.updatedAt), this.resentAt.get(deployment.id) ?? 0);
      if (now - since < quietMs) continue;
      this.resentAt.set(deployment.id, now);
      if (inFlight) {
        await this.sendRequest(deployment);
      } else {
        await this.sendCommand(
          info.nodeId,
          createMessage(MessageType.DeployCancel, { deploymentId: deployment.id, reason: 're-sent: the node no longer had it' }, this.meta()),
        );
      }
      this.logger.warn('a node no longer had work placed on it (restarted?); sent it again', {
        deploymentId: deployment.id,
        nodeId: info.nodeId,
        status: deployment.status,
      });
    }
  }

  private onStatus(message: MessageOf<typeof MessageType.DeployStatus>, delivery: Delivery): void {
    const body = message.body;
    const deployment = this.store.getDeployment(body.deploymentId);
    if (deployment === undefined) {
      if (body.status === Status.Running && message.from === body.nodeId) this.adopt(message);
      else this.rejectStatus(message, delivery, `unknown deployment ${body.deploymentId}`);
      return;
    }
    if (message.from !== body.nodeId || deployment.nodeId !== body.nodeId) {
      this.rejectStatus(
        message,
        delivery,
        `deploy.status for ${body.deploymentId} from ${message.from} (claiming ${body.nodeId}), but it is placed on ${deployment.nodeId ?? 'no node'}`,
      );
      return;
    }
    // a late status of an attempt the deployment has moved past (redeployed, moved, retried), or
    // one reordered by a redelivery within this attempt: acked, so it is not delivered again, and dropped
    const olderAttempt = body.attempt !== undefined && body.attempt < deployment.attempt;
    if (olderAttempt || isStaleStatus(deployment.status, body.status)) {
      this.stats.staleStatusesIgnored += 1;
      this.logger.debug('ignored a stale deploy.status', {
        deploymentId: body.deploymentId,
        current: deployment.status,
        reported: body.status,
        ...(olderAttempt ? { attempt: deployment.attempt, reportedAttempt: body.attempt } : {}),
        from: message.from,
        messageId: message.id,
      });
      return;
    }
    if (this.retryTakenPort(deployment, body)) return;
    if (this.destroyWhenEngineBack(deployment, body)) return;
    if (this.retryEngineDown(deployment, body)) return;
    const changed = this.store.setStatus(body.deploymentId, body.status, { ...reportedChange(message), message: body.message ?? null });
    if (changed === undefined) return;
    this.emit('deploymentChanged', changed);
    if (changed.status === Status.Errored) this.notifications.raise(deployFailed(changed));
  }

  /**
   * A host port the cluster handed out can be taken on the node by something Kraken does not know
   * (another program, an app left from an older cluster). That is not the app's failure: it gets
   * another port (the next one not known to be taken), up to MAX_PORT_RETRIES times, instead of
   * ending Errored.
   */
  private retryTakenPort(deployment: DeploymentRecord, body: MessageOf<typeof MessageType.DeployStatus>['body']): boolean {
    if (body.status !== Status.Errored || body.errorCode !== ErrorCode.Conflict || body.port === undefined || body.port !== deployment.port) return false;
    const retries = this.portRetries.get(deployment.id) ?? 0;
    if (retries >= MAX_PORT_RETRIES) return false;
    this.portRetries.set(deployment.id, retries + 1);
    this.takenPorts.add(body.port);
    this.stats.portsRetried += 1;
    const taken = body.port;
    this.logger.warn('host port taken on the node; placing the deployment again with another port', {
      deploymentId: deployment.id,
      nodeId: body.nodeId,
      port: taken,
    });
    void this.exclusive(async () => {
      const current = this.store.getDeployment(deployment.id);
      if (current === undefined || current.attempt !== deployment.attempt || isTerminalStatus(current.status)) return;
      await this.placeAndRequest({ ...current, port: null }, { attempt: current.attempt + 1, why: `host port ${taken} is taken on ${body.nodeId}` });
    }).catch((error: unknown) => {
      this.logger.error('could not place a deployment again after a port clash', { deploymentId: deployment.id, error: toKrakenError(error) });
    });
    return true;
  }

  /**
   * A cancel that reaches a node whose Docker engine does not answer cannot stop the container,
   * which the engine starts again when it is back (restart policy): the deployment is Destroyed, as
   * the user asked, and the node is told to stop it at the engine's next answer.
   */
  private destroyWhenEngineBack(deployment: DeploymentRecord, body: MessageOf<typeof MessageType.DeployStatus>['body']): boolean {
    if (body.status !== Status.Errored || body.errorCode !== ErrorCode.EngineDown || !destructionStatuses.has(deployment.status)) return false;
    const nodeId = body.nodeId;
    this.store.addPendingStop({ deploymentId: deployment.id, nodeId, reason: `destroyed while the Docker engine on ${nodeId} did not answer` });
    this.engineWatch.movedAway(nodeId, this.clock.now());
    this.changeStatus(deployment.id, Status.Destroyed, `the Docker engine on ${nodeId} did not answer the stop; ${nodeId} will be told to stop it once its engine answers again`);
    return true;
  }

  /**
   * A deployment placed on a node whose Docker engine has just stopped (before a heartbeat said so,
   * or within the grace that EngineWatch gives an engine restart) fails there with EngineDown. That
   * is the node's failure, not the app's: it is placed on another node, with the reason, instead of
   * ending Errored; up to MAX_ENGINE_DOWN_RETRIES times. The node is told to stop it once its
   * engine answers again, however short the outage: the engine may have gone away halfway through
   * a redeploy and restart the old version's container when it is back.
   */
  private retryEngineDown(deployment: DeploymentRecord, body: MessageOf<typeof MessageType.DeployStatus>['body']): boolean {
    if (body.status !== Status.Errored || body.errorCode !== ErrorCode.EngineDown || destructionStatuses.has(deployment.status)) return false;
    const retries = this.engineDownRetries.get(deployment.id) ?? 0;
    if (retries >= MAX_ENGINE_DOWN_RETRIES) return false;
    this.engineDownRetries.set(deployment.id, retries + 1);
    this.stats.engineDownRetried += 1;
    const nodeId = body.nodeId;
    const why = `the Docker engine on ${nodeId} did not answer its deploy request`;
    this.logger.warn('the node could not reach its Docker engine; placing the deployment on another node', { deploymentId: deployment.id, nodeId, message: body.message });
    void this.exclusive(async () => {
      const current = this.store.getDeployment(deployment.id);
      if (current === undefined || current.attempt !== deployment.attempt || isTerminalStatus(current.status)) return;
      this.store.addPendingStop({ deploymentId: current.id, nodeId, reason: `moved away: ${why}` });
      this.engineWatch.movedAway(nodeId, this.clock.now());
      await this.placeAndRequest(current, { attempt: current.attempt + 1, movingFrom: nodeId, why });
    }).catch((error: unknown) => {
      this.logger.error('could not place a deployment again after its node\'s engine did not answer', { deploymentId: deployment.id, error: toKrakenError(error) });
    });
    return true;
  }

  /**
   * A node reports an app running that this orchestrator has no record of: its state was lost (the
   * database deleted, emptied or damaged) or a takeover's copy missed the app's creation. Refusing
   * the report would leave the app holding its port, unlisted and impossible to cancel; it is
   * adopted instead, as a record built from the report (node, commit, port, URL). Its source is not
   * known, so it can be listed, watched and cancelled but not rebuilt. Only a node's report of
   * itself counts: no node can make another's apps appear.
   */
  private adopt(message: MessageOf<typeof MessageType.DeployStatus>): void {
    const body = message.body;
    const runtimes = this.store.getNode(body.nodeId)?.info.runtimes ?? [];
    this.store.createDeployment({
      id: body.deploymentId,
      srcUrl: ADOPTED_SOURCE,
      branch: 'unknown',
      // its name was lost with the state: its id (a slug of its repository) names it, where free, so the ingress still serves it
      ...(DEPLOYMENT_NAME_PATTERN.test(body.deploymentId) && this.store.liveDeploymentNamed(body.deploymentId) === undefined ? { name: body.deploymentId } : {}),
      ...(body.commit === undefined ? {} : { commit: body.commit }),
      ...(runtimes.length === 1 && runtimes[0] !== undefined ? { runtime: runtimes[0] } : {}),
    });
    this.releases.startRelease(body.deploymentId, body.commit ?? null, `${ReleaseTrigger.Adopted} (${body.nodeId})`);
    const adopted = this.store.setStatus(
      body.deploymentId,
      Status.Running,
      {
        ...reportedChange(message),
        message: `adopted: ${body.nodeId} runs it, but this orchestrator had no record of it (its state was lost); its source is unknown, so cancel it or deploy its repository again`,
      },
      { nodeId: body.nodeId, placementReason: `adopted from ${body.nodeId}, which reported it running` },
    );
    this.logger.warn('adopted a deployment a node runs that this orchestrator had no record of', { deploymentId: body.deploymentId, nodeId: body.nodeId, url: body.url });
    if (adopted !== undefined) this.emit('deploymentChanged', adopted);
  }

  private rejectStatus(message: MessageOf<typeof MessageType.DeployStatus>, delivery: Delivery, reason: string): void {
    this.logger.warn('rejected a deploy.status', {
      deploymentId: message.body.deploymentId,
      from: message.from,
      messageId: message.id,
      reason,
    });
    delivery.nack({ requeue: false, reason });
  }

  private onLog(message: MessageOf<typeof MessageType.DeployLog>): void {
    const body = message.body;
    if (!this.isFromPlacedNode(body.deploymentId, message.from)) {
      this.logger.debug('dropped deploy.log from a node the deployment is not placed on', {
        deploymentId: body.deploymentId,
        from: message.from,
      });
      return;
    }
    const result = this.store.appendLogs(body.deploymentId, body.lines, {
      batchSeq: body.seq,
      ...(body.dropped === undefined ? {} : { senderDropped: body.dropped }),
    });
    if (result.newGaps > 0) {
      this.logger.warn('log batches lost', {
        deploymentId: body.deploymentId,
        from: message.from,
        missingBatches: result.newGaps,
        seq: body.seq,
      });
    }
    this.emit('logLines', body.deploymentId, result.lines);
  }

  private onStats(message: MessageOf<typeof MessageType.DeployStats>): void {
    const body = message.body;
    if (!this.isFromPlacedNode(body.deploymentId, message.from)) return;
    // the orchestrator's time, not the worker's: samples stay in order when an app moves nodes
    const at = isoTime(this.clock);
    this.store.updateStats(body.deploymentId, {
      cpuPercent: body.cpuPercent,
      memMb: body.memMb,
      maxMemMb: body.maxMemMb,
      imageSizeMb: body.imageSizeMb,
      at,
    });
    this.statsHistory.record(body.deploymentId, { at, cpuPercent: body.cpuPercent, memMb: body.memMb, maxMemMb: body.maxMemMb });
    this.emit('deploymentChanged', this.store.requireDeployment(body.deploymentId));
  }

  private isFromPlacedNode(deploymentId: string, from: string): boolean {
    return this.store.getDeployment(deploymentId)?.nodeId === from;
  }

  // ---- liveness ----

  /**
   * Before silence declares a node dead: does it still consume its queue, i.e. does the broker
   * still hold its connection? Then its heartbeats are stalled on a bad link, not lost with it.
   */
  private async askWhoIsConnected(now: number): Promise<void> {
    for (const nodeId of this.liveness.deathCandidates(now)) {
      const answer = await this.broker.consumerCount(this.options.queues.node(nodeId)).then(
        (consumers): BrokerAnswer => (consumers > 0 ? 'connected' : 'gone'),
        (error: unknown): BrokerAnswer => {
          // a node queue that does not exist has no consumer
          if (error instanceof KrakenError && error.code === ErrorCode.NotFound) return 'gone';
          this.logger.warn('could not ask the broker whether a silent node is connected; it is not declared dead before the fixed bound', { nodeId, error });
          return 'no answer';
        },
      );
      this.liveness.setBrokerAnswer(nodeId, answer);
    }
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

  private async onTransition(transition: NodeTransition): Promise<void> {
    const { nodeId, from, to } = transition;
    const node = this.store.getNode(nodeId);
    if (node === undefined) return;
    const stored = this.store.setNodeState(nodeId, to);
    const detection = this.liveness.detection(nodeId);
    const because =
      detection?.stopping === true
        ? ` (its agent stopped; its apps keep running until it is back or ${Math.round(detection.noticeLossAfterMs / 1000)} s pass)`
        : to === NodeState.Suspect && detection?.reachable === true
          ? ' (its pulses still arrive: its link to the broker is stalled or down; its apps stay where they are)'
          : '';
    this.logger[to === NodeState.Alive ? 'info' : 'warn'](`node ${nodeId} is ${to}${because}`, {
      nodeId,
      from,
      silentMs: transition.silentMs,
      ...(detection === undefined ? {} : { phi: detection.phi, heartbeatIntervalMs: detection.intervalMs, heartbeatJitterMs: detection.jitterMs }),
    });
    this.emit('nodeChanged', stored, transition);
    if (to === NodeState.Dead) {
      this.engineWatch.forget(nodeId);
      const why = silenceReason(nodeId, transition.silentMs, detection);
      this.notifications.raise(nodeDead(stored, why));
      await this.evacuate(nodeId, why);
    }
    // back from the dead, or from suspicion (a redeploy may have placed its app elsewhere meanwhile);
    // not while its engine is down: a container it cannot stop now would start again with the engine
    const back = from === NodeState.Dead || (from === NodeState.Suspect && !this.engineWatch.isDown(nodeId));
    if (to === NodeState.Alive && back) await this.stopMovedAway(nodeId);
  }

  /**
   * A node whose Docker engine stopped answering is alive, and so are its other apps; after the
   * grace its containers' deployments go elsewhere, and once the engine is back the copies that
   * moved away are stopped there (an engine restart restarts its containers).
   */
  private async onEngineReport(nodeId: string, dockerHealthy: boolean | undefined): Promise<void> {
    const event = this.engineWatch.report(nodeId, dockerHealthy, this.clock.now());
    if (event?.kind === 'failed') {
      const silentFor = Math.round((this.clock.now() - event.downSinceMs) / 1000);
      const why = `the Docker engine on ${nodeId} has not answered for ${String(silentFor)} s (the node is up; its other apps stay)`;
      this.logger.warn(`moving the Docker apps of ${nodeId}: its engine is down`, { nodeId, downForS: silentFor });
      await this.evacuate(nodeId, why, Runtime.Docker);
    }
    if (event?.kind === 'recovered') {
      this.logger.info(`the Docker engine on ${nodeId} answers again`, { nodeId });
      await this.stopMovedAway(nodeId);
    }
  }

  /**
   * Re-places every active deployment of a node (of one runtime only, when its engine failed); the
   * node is told to stop them if it returns.
   */
  private async evacuate(nodeId: string, why: string, runtime?: Runtime): Promise<void> {
    for (const deployment of this.store.listDeployments({ nodeId })) {
      // a stopped app stays stopped where its image is: failover must not run it anywhere
      if (isTerminalStatus(deployment.status) || isStoppedStatus(deployment.status)) continue;
      if (runtime !== undefined && deployment.runtime !== runtime) continue;
      this.store.addPendingStop({ deploymentId: deployment.id, nodeId, reason: `moved away: ${why}` });
      if (destructionStatuses.has(deployment.status)) {
        this.changeStatus(
          deployment.id,
          Status.Destroyed,
          `${why} while it was being destroyed; it will be told to stop it if it returns`,
        );
        continue;
      }
      const moved = await this.placeAndRequest(deployment, { attempt: deployment.attempt + 1, movingFrom: nodeId, why });
      this.notifications.raise(appMoved(moved, nodeId, why));
    }
  }

  /** A dead node came back: whatever was moved away from it must not run twice. */
  private async stopMovedAway(nodeId: string): Promise<void> {
    for (const stop of this.store.pendingStops(nodeId)) {
      let deployment = this.store.getDeployment(stop.deploymentId);
      if (deployment !== undefined && deployment.nodeId === null && !isTerminalStatus(deployment.status)) {
        // nothing else could take it while this node was away, so nothing was moved: place it now,
        // which usually gives it back to this node (still running it) instead of destroying it
        deployment = await this.placeAndRequest(deployment, { attempt: deployment.attempt + 1, why: `${nodeId} is back` });
      }
      // moved back to it meanwhile: that copy is the one that should run (unless it was destroyed there)
      if (deployment?.nodeId !== nodeId || deployment.status === Status.Destroyed) {
        await this.sendCommand(
          nodeId,
          createMessage(MessageType.DeployStop, { deploymentId: stop.deploymentId, reason: stop.reason }, this.meta()),
        );
        this.logger.info('told a returning node to stop a deployment that moved away', {
          nodeId,
          deploymentId: stop.deploymentId,
        });
      }
      this.store.removePendingStop(stop.deploymentId, nodeId);
    }
  }

  // ---- placing and commanding ----

  /**
   * Places a deployment (keeping its port, which is free cluster-wide), persists the placement,
   * then sends the request. With no node able to run it, it waits in DeploymentRequested with
   * the reason, and tick() tries again.
   */
  private async placeAndRequest(
    deployment: DeploymentRecord,
    how: { attempt: number; movingFrom?: string; why?: string },
  ): Promise<DeploymentRecord> {
    const decision = placeDeployment({
      nodes: this.store.listNodes(),
      deployments: this.store.listDeployments(),
      request: {
        runtime: deployment.runtime,
        memoryMb: deployment.memoryMb,
        excludeNodeIds: how.movingFrom === undefined ? [] : [how.movingFrom],
        ...this.failoverBuilds.preference(deployment),
      },
      defaultMemoryMb: this.options.defaultMemoryMb,
    });
    const prefix = how.why === undefined ? '' : `${how.why}; `;
    const leaving = deployment.nodeId;
    if (leaving !== null && how.movingFrom === undefined && !isTerminalStatus(deployment.status) && !(decision.ok && decision.value.nodeId === leaving)) {
      // taken off a node that may still run it (a redeploy while that node is suspect, or while its
      // engine is down): it must not run twice, so that node is told to stop it once it is back
      const where = decision.ok ? `placed on ${decision.value.nodeId}` : 'waiting for a node';
      this.store.addPendingStop({ deploymentId: deployment.id, nodeId: leaving, reason: `moved away: ${prefix}${where}` });
    }
    if (!decision.ok) {
      const message = `${prefix}waiting for a node: ${decision.error.message}`;
      if (deployment.status === Status.DeploymentRequested && deployment.nodeId === null && deployment.statusMessage === message)
        return deployment;
      this.logger.warn('deployment is waiting for a node', { deploymentId: deployment.id, reason: decision.error.message });
      return this.changeStatus(deployment.id, Status.DeploymentRequested, message, { nodeId: null, attempt: how.attempt });
    }
    const port = deployment.port ?? allocatePort(this.portsInUse(deployment.id), this.options.portRange);
    const reason = `${prefix}${decision.value.reason}`;
    // the history keeps each status's message, not the placement reason: a move says why in both
    const placed = this.changeStatus(deployment.id, Status.DelegatingDeployment, `${prefix}placed on ${decision.value.nodeId}`, {
      nodeId: decision.value.nodeId,
      placementReason: reason,
      port,
      attempt: how.attempt,
      commit: deployment.commit,
    });
    this.logger.info('deployment placed', {
      deploymentId: deployment.id,
      nodeId: decision.value.nodeId,
      attempt: how.attempt,
      reason,
    });
    try {
      await this.sendRequest(placed);
    } catch (error) {
      const failure = toKrakenError(error);
      this.logger.error('could not send deploy.request; will place it again', { deploymentId: deployment.id, error: failure });
      return this.changeStatus(
        deployment.id,
        Status.DeploymentRequested,
        `could not reach ${decision.value.nodeId}: ${failure.message}`,
        { nodeId: null },
      );
    }
    return placed;
  }

  /** Where the deployment's failover build stands: which node, and whether a move there would be a start. */
  failover(id: string): FailoverView | undefined {
    return this.failoverBuilds.view(id);
  }

  private portsInUse(exceptId: string): number[] {
    return [
      ...this.takenPorts,
      ...this.store
        .listDeployments()
        .filter((d) => d.id !== exceptId && d.port !== null && !isTerminalStatus(d.status))
        .map((d) => d.port as number),
    ];
  }

  private async sendRequest(deployment: DeploymentRecord): Promise<void> {
    if (deployment.nodeId === null)
      throw new KrakenError(ErrorCode.Internal, `deployment ${deployment.id} has no node to send to`, {
        deploymentId: deployment.id,
      });
    const message = createMessage(
      MessageType.DeployRequest,
      {
        deploymentId: deployment.id,
        srcUrl: deployment.srcUrl,
        branch: deployment.branch,
        attempt: deployment.attempt,
        // while a redeploy has not started on the node (also when re-sent), the node must replace what it runs
        // with a pinned commit (a rollback, a restart with other settings), from the build the node kept of it if any
        ...(deployment.status === Status.UpdateRequested ? { replace: true, ...(deployment.commit === null ? {} : { fromKept: true }) } : {}),
        // moved to the node that holds its failover build: run that build, no clone, build or test
        ...(deployment.status !== Status.UpdateRequested && this.failoverBuilds.runsKeptBuild(deployment) ? { fromKept: true } : {}),
        runtime: deployment.runtime,
        env: deployment.env,
        ...(deployment.commit === null ? {} : { commit: deployment.commit }),
        ...(deployment.port === null ? {} : { port: deployment.port }),
        ...(deployment.memoryMb === null ? {} : { limits: { memoryMb: deployment.memoryMb } }),
      },
      this.meta(),
    );
    await this.sendCommand(deployment.nodeId, message);
  }

  /**
   * Tells every node this term began, ahead of any command in its queue: a command of the former
   * leader that arrives later (resent after a reconnect, or sent by one that was frozen) is refused.
   */
  private async announceElection(): Promise<void> {
    const elected = createMessage(MessageType.LeaderElected, { leaderId: this.nodeId }, this.meta());
    for (const node of this.store.listNodes()) await this.sendCommand(node.id, elected);
  }

  private async sendCommand(
    nodeId: string,
    message: MessageOf<'deploy.request' | 'deploy.cancel' | 'deploy.stop' | 'deploy.lifecycle' | 'deploy.prepare' | 'leader.elected'>,
  ): Promise<void> {
    this.requireLeads(`send ${message.type}`, 'deploymentId' in message.body ? message.body.deploymentId : undefined);
    const queue = this.options.queues.node(nodeId);
    if (!this.declaredNodeQueues.has(queue)) {
      await this.broker.declareQueue(queue, { class: DeliveryClass.Durable });
      this.declaredNodeQueues.add(queue);
    }
    await this.broker.publish(queue, message);
  }

  private changeStatus(
    id: string,
    status: DeploymentStatus,
    message: string,
    patch: Parameters<OrchestratorStore['setStatus']>[3] = {},
  ): DeploymentRecord {
    const changed = this.store.setStatus(id, status, { message, nodeId: this.nodeId }, patch) ?? this.store.requireDeployment(id);
    this.emit('deploymentChanged', changed);
    return changed;
  }

  /**
   * After a restart: deployments not yet placed are placed; those sent to a live node are sent
   * again under the new epoch (the worker ignores the old-epoch copy, and handles a deployment id
   * it already has idempotently), so none is placed twice; those further along keep waiting for
   * their node's status; those on a node known dead are moved.
   */
  private async redrive(): Promise<void> {
    for (const deployment of this.store.listDeployments()) {
      // a stopped one waits for a start from the user, wherever its node is
      if (isTerminalStatus(deployment.status) || isStoppedStatus(deployment.status)) continue;
      if (deployment.nodeId === null) {
        await this.placeAndRequest(deployment, { attempt: deployment.attempt });
        continue;
      }
      const node = this.store.getNode(deployment.nodeId);
      if (node === undefined || node.state === NodeState.Dead) {
        await this.evacuate(
          deployment.nodeId,
          `${deployment.nodeId} was ${node === undefined ? 'unknown' : 'dead'} when the orchestrator restarted`,
        );
        continue;
      }
      if (
        deployment.status === Status.DelegatingDeployment ||
        deployment.status === Status.DeploymentRequested ||
        deployment.status === Status.UpdateRequested
      ) {
        await this.sendRequest(deployment);
        this.logger.info('re-sent deploy.request after restart', {
          deploymentId: deployment.id,
          nodeId: deployment.nodeId,
          epoch: this.epoch,
        });
      } else if (deployment.status === Status.DestructionRequested || deployment.status === Status.DelegatingDestruction) {
        await this.sendCommand(
          deployment.nodeId,
          createMessage(
            MessageType.DeployCancel,
            { deploymentId: deployment.id, reason: 're-sent after an orchestrator restart' },
            this.meta(),
          ),
        );
      }
    }
  }

  /** Refuses a change or a command of an orchestrator that no longer leads, before it stores or sends anything. */
  /** Whether this orchestrator still holds the lease (a former leader winding down does not). */
  get leads(): boolean {
    return this.mayAct();
  }

  private requireLeads(what: string, deploymentId?: string): void {
    if (this.mayAct()) return;
    throw new KrakenError(ErrorCode.Unavailable, `cannot ${what}: orchestrator ${this.nodeId} (epoch ${this.epoch}) no longer leads the cluster; ask the current leader`, {
      ...(deploymentId === undefined ? {} : { deploymentId }),
    });
  }

  private meta(): { from: string; epoch: number } {
    return { from: this.nodeId, epoch: this.epoch };
  }

  /** Runs `operation` after every earlier one has finished; its failure does not block later ones. */
  private exclusive<T>(operation: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(operation, operation);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/**
 * A node that joined with a broker user of its own may only speak for itself: RabbitMQ validated the
 * publisher's user, while `from` is just a field it wrote. Other publishers (the leader's own worker,
 * an operator's shared credential, the in-process broker) are trusted as before.
 */
function impersonationOf(delivery: Delivery): string | undefined {
  const node = delivery.publisher === undefined ? undefined : BrokerUsers.nodeOf(delivery.publisher);
  if (node === undefined || node === delivery.message.from) return undefined;
  return `${delivery.message.type} claims to be from node ${delivery.message.from} but was sent with node ${node}'s broker user`;
}

/** Why a node was declared dead, in words a user can check against what they know of the machine. */
function silenceReason(nodeId: string, silentMs: number, detection: NodeDetection | undefined): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (detection?.stopping === true) return `${nodeId}'s agent stopped and was not back within ${seconds(silentMs)}`;
  const usual = detection === undefined ? '' : ` (it usually beats every ${seconds(detection.intervalMs)} ± ${seconds(detection.jitterMs)})`;
  return `${nodeId} sent no heartbeat for ${seconds(silentMs)}${usual}`;
}
