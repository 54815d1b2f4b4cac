import type { Delivery } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { isoTime, toKrakenError } from '@kraken/common';
import type { MessageOf, NodeInfoBody } from '@kraken/messages';
import { BrokerUsers, MessageType, createMessage, isTerminalStatus } from '@kraken/messages';
import type { NodeCommands } from '../dispatch/node-commands.js';
import type { WorkSender } from '../dispatch/work-sender.js';
import type { EmitEvent } from '../events.js';
import type { LeaderTerm } from '../leadership/leader-term.js';
import type { Liveness } from '../liveness/liveness.js';
import type { NodeTransitions } from '../liveness/node-transitions.js';
import type { FailoverKeeper } from '../scheduling/failover-keeper.js';
import type { NodeHistory } from '../stats/node-history.js';
import type { StatsHistory } from '../stats/stats-history.js';
import { deployingStatuses, destructionStatuses } from '../status-phases.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import { NodeState } from '../store/records.js';
import type { StatusReports } from './status-reports.js';

export interface WorkerInboxOptions {
  store: OrchestratorStore;
  logger: Logger;
  clock: Clock;
  /** A node that went this long without reporting work placed on it has lost it. */
  heartbeatIntervalMs: number;
  term: Pick<LeaderTerm, 'leads' | 'exclusive' | 'meta'>;
  /** Resolves once what the store committed so far is on its way to the standbys. */
  replicated: () => Promise<void>;
  liveness: Pick<Liveness, 'beat'>;
  failoverBuilds: Pick<FailoverKeeper, 'report'>;
  nodeHistory: Pick<NodeHistory, 'recordHeartbeat'>;
  statsHistory: Pick<StatsHistory, 'record'>;
  transitions: Pick<NodeTransitions, 'onTransition' | 'onEngineReport'>;
  statuses: Pick<StatusReports, 'onStatus'>;
  commands: Pick<NodeCommands, 'send'>;
  work: Pick<WorkSender, 'sendRequest'>;
  emit: EmitEvent;
}

/** What nodes send the orchestrator (heartbeats, statuses, logs, stats), taken off its two queues. */
export class WorkerInbox {
  /** When lost work was last re-sent per deployment, so a slow worker is not flooded. */
  private readonly resentAt = new Map<string, number>();

  constructor(private readonly deps: WorkerInboxOptions) {}

  async handle(delivery: Delivery): Promise<void> {
    const { term, logger } = this.deps;
    const { message } = delivery;
    if (!term.leads) {
      // the leader that holds the lease takes it from the queue
      delivery.nack({ requeue: true });
      return;
    }
    const impersonation = impersonationOf(delivery);
    if (impersonation !== undefined) {
      logger.warn('refused a message sent as another node', { type: message.type, messageId: message.id, from: message.from, publisher: delivery.publisher });
      delivery.nack({ requeue: false, reason: impersonation });
      return;
    }
    try {
      switch (message.type) {
        case MessageType.NodeInfo:
          await term.exclusive(() => this.onNodeInfo(message));
          return;
        // acked (by returning) once what they changed has left for the standbys, not before
        case MessageType.DeployStatus:
          this.deps.statuses.onStatus(message, delivery);
          await this.deps.replicated();
          return;
        case MessageType.DeployLog:
          this.onLog(message);
          await this.deps.replicated();
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
      logger.error('handling a message failed', {
        type: message.type,
        messageId: message.id,
        from: message.from,
        error: failure,
      });
      throw failure;
    }
  }

  private async onNodeInfo(message: MessageOf<typeof MessageType.NodeInfo>): Promise<void> {
    const { store, transitions } = this.deps;
    const info = message.body;
    if (message.from !== info.nodeId) {
      this.deps.logger.warn('ignoring node.info sent on behalf of another node', { from: message.from, nodeId: info.nodeId });
      return;
    }
    const transition = this.deps.liveness.beat(info.nodeId, { stopping: info.stopping === true });
    const node = store.nodes.upsert(info, NodeState.Alive);
    this.deps.failoverBuilds.report(info.nodeId, info.failoverBuilds);
    this.deps.nodeHistory.recordHeartbeat(info, isoTime(this.deps.clock));
    if (transition === undefined) this.deps.emit('nodeChanged', node, undefined);
    else await transitions.onTransition(transition);
    await transitions.onEngineReport(info.nodeId, info.dockerHealthy);
    await this.resendLostWork(info);
  }

  /**
   * A node that restarted (agent killed, machine rebooted) has forgotten the commands it was
   * working on. Its heartbeat says what it runs and what it works on; a deployment placed there,
   * in flight for a while, and in neither list gets its command again. Duplicates are harmless:
   * a worker reports what it has instead of doing the work twice.
   */
  private async resendLostWork(info: NodeInfoBody): Promise<void> {
    if (info.working === undefined) return; // an older worker that does not say
    const { store, term, logger } = this.deps;
    const held = new Set([...info.deployments, ...info.working]);
    const now = this.deps.clock.now();
    const quietMs = 3 * this.deps.heartbeatIntervalMs;
    for (const deployment of store.deployments.list({ nodeId: info.nodeId })) {
      if (held.has(deployment.id) || isTerminalStatus(deployment.status)) continue;
      const inFlight = deployingStatuses.has(deployment.status);
      const destroying = destructionStatuses.has(deployment.status);
      if (!inFlight && !destroying) continue;
      const since = Math.max(Date.parse(deployment.updatedAt), this.resentAt.get(deployment.id) ?? 0);
      if (now - since < quietMs) continue;
      this.resentAt.set(deployment.id, now);
      if (inFlight) {
        await this.deps.work.sendRequest(deployment);
      } else {
        await this.deps.commands.send(
          info.nodeId,
          createMessage(MessageType.DeployCancel, { deploymentId: deployment.id, reason: 're-sent: the node no longer had it' }, term.meta()),
        );
      }
      logger.warn('a node no longer had work placed on it (restarted?); sent it again', {
        deploymentId: deployment.id,
        nodeId: info.nodeId,
        status: deployment.status,
      });
    }
  }

  private onLog(message: MessageOf<typeof MessageType.DeployLog>): void {
    const { store, logger } = this.deps;
    const body = message.body;
    if (!this.isFromPlacedNode(body.deploymentId, message.from)) {
      logger.debug('dropped deploy.log from a node the deployment is not placed on', {
        deploymentId: body.deploymentId,
        from: message.from,
      });
      return;
    }
    const result = store.logs.append(body.deploymentId, body.lines, {
      batchSeq: body.seq,
      ...(body.dropped === undefined ? {} : { senderDropped: body.dropped }),
    });
    if (result.newGaps > 0) {
      logger.warn('log batches lost', {
        deploymentId: body.deploymentId,
        from: message.from,
        missingBatches: result.newGaps,
        seq: body.seq,
      });
    }
    this.deps.emit('logLines', body.deploymentId, result.lines);
  }

  private onStats(message: MessageOf<typeof MessageType.DeployStats>): void {
    const { store } = this.deps;
    const body = message.body;
    if (!this.isFromPlacedNode(body.deploymentId, message.from)) return;
    // the orchestrator's time, not the worker's: samples stay in order when an app moves nodes
    const at = isoTime(this.deps.clock);
    store.deployments.updateStats(body.deploymentId, {
      cpuPercent: body.cpuPercent,
      memMb: body.memMb,
      maxMemMb: body.maxMemMb,
      imageSizeMb: body.imageSizeMb,
      at,
    });
    this.deps.statsHistory.record(body.deploymentId, { at, cpuPercent: body.cpuPercent, memMb: body.memMb, maxMemMb: body.maxMemMb });
    this.deps.emit('deploymentChanged', store.deployments.require(body.deploymentId));
  }

  private isFromPlacedNode(deploymentId: string, from: string): boolean {
    return this.deps.store.deployments.get(deploymentId)?.nodeId === from;
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
