import type { Delivery } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { ErrorCode, toKrakenError } from '@kraken/common';
import type { MessageOf } from '@kraken/messages';
import { DEPLOYMENT_NAME_PATTERN, MessageType, DeploymentStatus as Status, createMessage, isTerminalStatus } from '@kraken/messages';
import type { NodeCommands } from '../dispatch/node-commands.js';
import type { WorkSender } from '../dispatch/work-sender.js';
import type { EmitEvent } from '../events.js';
import type { LeaderTerm } from '../leadership/leader-term.js';
import type { EngineWatch } from '../liveness/engine-watch.js';
import { deployFailed } from '../notifications/notification.js';
import type { NotificationFeed } from '../notifications/notification-feed.js';
import type { Releases } from '../releases/releases.js';
import { ReleaseTrigger } from '../releases/releases.js';
import { isStaleStatus } from '../status-order.js';
import { destructionStatuses } from '../status-phases.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentRecord, StatusChange } from '../store/records.js';
import { ADOPTED_SOURCE } from '../store/adopted.js';

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


type DeployStatusMessage = MessageOf<typeof MessageType.DeployStatus>;

export interface StatusReportsOptions {
  store: OrchestratorStore;
  logger: Logger;
  term: Pick<LeaderTerm, 'exclusive' | 'meta'>;
  commands: Pick<NodeCommands, 'send'>;
  clock: Clock;
  engineWatch: Pick<EngineWatch, 'movedAway'>;
  work: Pick<WorkSender, 'placeAndRequest' | 'avoidPort' | 'changeStatus'>;
  releases: Pick<Releases, 'startRelease'>;
  notifications: Pick<NotificationFeed, 'raise'>;
  emit: EmitEvent;
}

/**
 * Takes the deploy.status reports of nodes into the store: in order, only from the node a
 * deployment is placed on, with a taken host port retried elsewhere and an unknown running app
 * adopted.
 */
export class StatusReports {
  /** What was done with reports that were not simply stored, since the orchestrator started. */
  readonly counts = { staleStatusesIgnored: 0, portsRetried: 0, engineDownRetried: 0 };
  /** Port retries per deployment, so a node where every port fails cannot loop forever. */
  private readonly portRetries = new Map<string, number>();
  private readonly engineDownRetries = new Map<string, number>();

  constructor(private readonly deps: StatusReportsOptions) {}

  onStatus(message: DeployStatusMessage, delivery: Delivery): void {
    const { store, logger } = this.deps;
    const body = message.body;
    const deployment = store.deployments.get(body.deploymentId);
    if (deployment === undefined) {
      if (body.status === Status.Running && message.from === body.nodeId) this.adopt(message);
      else this.reject(message, delivery, `unknown deployment ${body.deploymentId}`);
      return;
    }
    if (message.from !== body.nodeId || deployment.nodeId !== body.nodeId) {
      this.reject(
        message,
        delivery,
        `deploy.status for ${body.deploymentId} from ${message.from} (claiming ${body.nodeId}), but it is placed on ${deployment.nodeId ?? 'no node'}`,
      );
      if (message.from === body.nodeId && body.status === Status.Running) this.stopLeftover(deployment, message.from);
      return;
    }
    // a late status of an attempt the deployment has moved past (redeployed, moved, retried), or
    // one reordered by a redelivery within this attempt: acked, so it is not delivered again, and dropped
    const olderAttempt = body.attempt !== undefined && body.attempt < deployment.attempt;
    if (olderAttempt || isStaleStatus(deployment.status, body.status)) {
      this.counts.staleStatusesIgnored += 1;
      logger.debug('ignored a stale deploy.status', {
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
    const changed = store.deployments.setStatus(body.deploymentId, body.status, { ...reportedChange(message), message: body.message ?? null });
    if (changed === undefined) return;
    this.deps.emit('deploymentChanged', changed);
    if (changed.status === Status.Errored) this.deps.notifications.raise(deployFailed(changed));
  }

  /**
   * A cancel that reaches a node whose Docker engine does not answer cannot stop the container,
   * which the engine starts again when it is back (restart policy): the deployment is Destroyed, as
   * the user asked, and the node is told to stop it at the engine's next answer.
   */
  private destroyWhenEngineBack(deployment: DeploymentRecord, body: DeployStatusMessage['body']): boolean {
    if (body.status !== Status.Errored || body.errorCode !== ErrorCode.EngineDown || !destructionStatuses.has(deployment.status)) return false;
    const nodeId = body.nodeId;
    this.deps.store.pendingStops.add({ deploymentId: deployment.id, nodeId, reason: `destroyed while the Docker engine on ${nodeId} did not answer` });
    this.deps.engineWatch.movedAway(nodeId, this.deps.clock.now());
    this.deps.work.changeStatus(deployment.id, Status.Destroyed, `the Docker engine on ${nodeId} did not answer the stop; ${nodeId} will be told to stop it once its engine answers again`);
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
  private retryEngineDown(deployment: DeploymentRecord, body: DeployStatusMessage['body']): boolean {
    if (body.status !== Status.Errored || body.errorCode !== ErrorCode.EngineDown || destructionStatuses.has(deployment.status)) return false;
    const { store, logger, work, engineWatch, clock } = this.deps;
    const retries = this.engineDownRetries.get(deployment.id) ?? 0;
    if (retries >= MAX_ENGINE_DOWN_RETRIES) return false;
    this.engineDownRetries.set(deployment.id, retries + 1);
    this.counts.engineDownRetried += 1;
    const nodeId = body.nodeId;
    const why = `the Docker engine on ${nodeId} did not answer its deploy request`;
    logger.warn('the node could not reach its Docker engine; placing the deployment on another node', { deploymentId: deployment.id, nodeId, message: body.message });
    void this.deps.term
      .exclusive(async () => {
        const current = store.deployments.get(deployment.id);
        if (current === undefined || current.attempt !== deployment.attempt || isTerminalStatus(current.status)) return;
        store.pendingStops.add({ deploymentId: current.id, nodeId, reason: `moved away: ${why}` });
        engineWatch.movedAway(nodeId, clock.now());
        await work.placeAndRequest(current, { attempt: current.attempt + 1, movingFrom: nodeId, why });
      })
      .catch((error: unknown) => {
        logger.error("could not place a deployment again after its node's engine did not answer", { deploymentId: deployment.id, error: toKrakenError(error) });
      });
    return true;
  }

  /**
   * A host port the cluster handed out can be taken on the node by something Kraken does not know
   * (another program, an app left from an older cluster). That is not the app's failure: it gets
   * another port (the next one not known to be taken), up to MAX_PORT_RETRIES times, instead of
   * ending Errored.
   */
  private retryTakenPort(deployment: DeploymentRecord, body: DeployStatusMessage['body']): boolean {
    const { store, logger, work } = this.deps;
    if (body.status !== Status.Errored || body.errorCode !== ErrorCode.Conflict || body.port === undefined || body.port !== deployment.port) return false;
    const retries = this.portRetries.get(deployment.id) ?? 0;
    if (retries >= MAX_PORT_RETRIES) return false;
    this.portRetries.set(deployment.id, retries + 1);
    work.avoidPort(body.port);
    this.counts.portsRetried += 1;
    const taken = body.port;
    logger.warn('host port taken on the node; placing the deployment again with another port', {
      deploymentId: deployment.id,
      nodeId: body.nodeId,
      port: taken,
    });
    void this.deps.term
      .exclusive(async () => {
        const current = store.deployments.get(deployment.id);
        if (current === undefined || current.attempt !== deployment.attempt || isTerminalStatus(current.status)) return;
        await work.placeAndRequest({ ...current, port: null }, { attempt: current.attempt + 1, why: `host port ${taken} is taken on ${body.nodeId}` });
      })
      .catch((error: unknown) => {
        logger.error('could not place a deployment again after a port clash', { deploymentId: deployment.id, error: toKrakenError(error) });
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
  private adopt(message: DeployStatusMessage): void {
    const { store, logger } = this.deps;
    const body = message.body;
    const runtimes = store.nodes.get(body.nodeId)?.info.runtimes ?? [];
    store.deployments.create({
      id: body.deploymentId,
      srcUrl: ADOPTED_SOURCE,
      branch: 'unknown',
      // its name was lost with the state: its id (a slug of its repository) names it, where free, so the ingress still serves it
      ...(DEPLOYMENT_NAME_PATTERN.test(body.deploymentId) && store.deployments.named(body.deploymentId) === undefined ? { name: body.deploymentId } : {}),
      ...(body.commit === undefined ? {} : { commit: body.commit }),
      ...(runtimes.length === 1 && runtimes[0] !== undefined ? { runtime: runtimes[0] } : {}),
    });
    this.deps.releases.startRelease(body.deploymentId, body.commit ?? null, `${ReleaseTrigger.Adopted} (${body.nodeId})`);
    const adopted = store.deployments.setStatus(
      body.deploymentId,
      Status.Running,
      {
        ...reportedChange(message),
        message: `adopted: ${body.nodeId} runs it, but this orchestrator had no record of it (its state was lost); its source is unknown, so cancel it or deploy its repository again`,
      },
      { nodeId: body.nodeId, placementReason: `adopted from ${body.nodeId}, which reported it running` },
    );
    logger.warn('adopted a deployment a node runs that this orchestrator had no record of', { deploymentId: body.deploymentId, nodeId: body.nodeId, url: body.url });
    if (adopted !== undefined) this.deps.emit('deploymentChanged', adopted);
  }

  /**
   * A node says it runs a deployment that is placed elsewhere (or gone): a copy left behind by a
   * move it did not hear of (its record of the move was lost, or it was away and no stop was
   * kept for it). It must not run twice, so that node is told to stop its copy. One waiting for a
   * node is left alone: when that node is back, it is usually placed there again.
   */
  private stopLeftover(deployment: DeploymentRecord, nodeId: string): void {
    if (deployment.nodeId === null && !isTerminalStatus(deployment.status)) return;
    const where = deployment.nodeId === null ? `it is ${deployment.status}` : `it runs on ${deployment.nodeId}`;
    const reason = `a copy left behind: ${where}`;
    this.deps.logger.warn('told a node to stop a copy of a deployment placed elsewhere', { deploymentId: deployment.id, nodeId, placedOn: deployment.nodeId });
    void this.deps.commands
      .send(nodeId, createMessage(MessageType.DeployStop, { deploymentId: deployment.id, reason }, this.deps.term.meta()))
      .catch((error: unknown) => {
        this.deps.logger.warn('could not tell a node to stop a copy left behind; its next report asks again', { deploymentId: deployment.id, nodeId, error });
      });
  }

  private reject(message: DeployStatusMessage, delivery: Delivery, reason: string): void {
    this.deps.logger.warn('rejected a deploy.status', {
      deploymentId: message.body.deploymentId,
      from: message.from,
      messageId: message.id,
      reason,
    });
    delivery.nack({ requeue: false, reason });
  }
}

/** What a node's deploy.status says besides its message, as the store records it. */
function reportedChange(message: DeployStatusMessage): StatusChange {
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
