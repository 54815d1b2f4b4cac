import type { Broker } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { DeploymentStatus as Status, MessageType, Runtime, createMessage, isStoppedStatus, isTerminalStatus } from '@kraken/messages';
import type { NodeCommands } from '../dispatch/node-commands.js';
import type { WorkSender } from '../dispatch/work-sender.js';
import type { EmitEvent } from '../events.js';
import type { LeaderTerm } from '../leadership/leader-term.js';
import { appMoved, nodeDead } from '../notifications/notification.js';
import type { NotificationFeed } from '../notifications/notification-feed.js';
import type { OrchestratorQueues } from '../options.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import { NodeState } from '../store/records.js';
import { destructionStatuses } from '../status-phases.js';
import type { EngineWatch } from './engine-watch.js';
import type { BrokerAnswer, Liveness, NodeDetection, NodeTransition } from './liveness.js';

export interface NodeTransitionsOptions {
  store: OrchestratorStore;
  broker: Pick<Broker, 'consumerCount'>;
  queues: Pick<OrchestratorQueues, 'node'>;
  logger: Logger;
  clock: Clock;
  liveness: Liveness;
  engineWatch: EngineWatch;
  notifications: Pick<NotificationFeed, 'raise'>;
  term: Pick<LeaderTerm, 'meta'>;
  commands: Pick<NodeCommands, 'send'>;
  work: Pick<WorkSender, 'placeAndRequest' | 'changeStatus'>;
  emit: EmitEvent;
}

/**
 * What follows from a node's state: a node that died or whose Docker engine failed has its apps
 * moved elsewhere, and one that comes back is told to stop the copies that moved away.
 */
export class NodeTransitions {
  constructor(private readonly deps: NodeTransitionsOptions) {}

  /**
   * Before silence declares a node dead: does it still consume its queue, i.e. does the broker
   * still hold its connection? Then its heartbeats are stalled on a bad link, not lost with it.
   */
  async askWhoIsConnected(now: number): Promise<void> {
    const { liveness, broker, queues, logger } = this.deps;
    for (const nodeId of liveness.deathCandidates(now)) {
      const answer = await broker.consumerCount(queues.node(nodeId)).then(
        (consumers): BrokerAnswer => (consumers > 0 ? 'connected' : 'gone'),
        (error: unknown): BrokerAnswer => {
          // a node queue that does not exist has no consumer
          if (error instanceof KrakenError && error.code === ErrorCode.NotFound) return 'gone';
          logger.warn('could not ask the broker whether a silent node is connected; it is not declared dead before the fixed bound', { nodeId, error });
          return 'no answer';
        },
      );
      liveness.setBrokerAnswer(nodeId, answer);
    }
  }

  /** Stores a node's new liveness state and acts on it. */
  async onTransition(transition: NodeTransition): Promise<void> {
    const { store, liveness, engineWatch, logger } = this.deps;
    const { nodeId, from, to } = transition;
    const node = store.nodes.get(nodeId);
    if (node === undefined) return;
    const stored = store.nodes.setState(nodeId, to);
    const detection = liveness.detection(nodeId);
    const because =
      detection?.stopping === true
        ? ` (its agent stopped; its apps keep running until it is back or ${Math.round(detection.noticeLossAfterMs / 1000)} s pass)`
        : to === NodeState.Suspect && detection?.reachable === true
          ? ' (its pulses still arrive: its link to the broker is stalled or down; its apps stay where they are)'
          : '';
    logger[to === NodeState.Alive ? 'info' : 'warn'](`node ${nodeId} is ${to}${because}`, {
      nodeId,
      from,
      silentMs: transition.silentMs,
      ...(detection === undefined ? {} : { phi: detection.phi, heartbeatIntervalMs: detection.intervalMs, heartbeatJitterMs: detection.jitterMs }),
    });
    this.deps.emit('nodeChanged', stored, transition);
    if (to === NodeState.Dead) {
      engineWatch.forget(nodeId);
      const why = silenceReason(nodeId, transition.silentMs, detection);
      this.deps.notifications.raise(nodeDead(stored, why));
      await this.evacuate(nodeId, why);
    }
    // back from the dead, or from suspicion (a redeploy may have placed its app elsewhere meanwhile);
    // not while its engine is down: a container it cannot stop now would start again with the engine
    const back = from === NodeState.Dead || (from === NodeState.Suspect && !engineWatch.isDown(nodeId));
    if (to === NodeState.Alive && back) await this.stopMovedAway(nodeId);
  }

  /**
   * A node whose Docker engine stopped answering is alive, and so are its other apps; after the
   * grace its containers' deployments go elsewhere, and once the engine is back the copies that
   * moved away are stopped there (an engine restart restarts its containers).
   */
  async onEngineReport(nodeId: string, dockerHealthy: boolean | undefined): Promise<void> {
    const { engineWatch, clock, logger } = this.deps;
    const event = engineWatch.report(nodeId, dockerHealthy, clock.now());
    if (event?.kind === 'failed') {
      const silentFor = Math.round((clock.now() - event.downSinceMs) / 1000);
      const why = `the Docker engine on ${nodeId} has not answered for ${String(silentFor)} s (the node is up; its other apps stay)`;
      logger.warn(`moving the Docker apps of ${nodeId}: its engine is down`, { nodeId, downForS: silentFor });
      await this.evacuate(nodeId, why, Runtime.Docker);
    }
    if (event?.kind === 'recovered') {
      logger.info(`the Docker engine on ${nodeId} answers again`, { nodeId });
      await this.stopMovedAway(nodeId);
    }
  }

  /**
   * Re-places every active deployment of a node (of one runtime only, when its engine failed); the
   * node is told to stop them if it returns.
   */
  async evacuate(nodeId: string, why: string, runtime?: Runtime): Promise<void> {
    const { store, work } = this.deps;
    for (const deployment of store.deployments.list({ nodeId })) {
      // a stopped app stays stopped where its image is: failover must not run it anywhere
      if (isTerminalStatus(deployment.status) || isStoppedStatus(deployment.status)) continue;
      if (runtime !== undefined && deployment.runtime !== runtime) continue;
      store.pendingStops.add({ deploymentId: deployment.id, nodeId, reason: `moved away: ${why}` });
      if (destructionStatuses.has(deployment.status)) {
        work.changeStatus(
          deployment.id,
          Status.Destroyed,
          `${why} while it was being destroyed; it will be told to stop it if it returns`,
        );
        continue;
      }
      const moved = await work.placeAndRequest(deployment, { attempt: deployment.attempt + 1, movingFrom: nodeId, why });
      this.deps.notifications.raise(appMoved(moved, nodeId, why));
    }
  }

  /** A dead node came back: whatever was moved away from it must not run twice. */
  private async stopMovedAway(nodeId: string): Promise<void> {
    const { store, work, commands, term, logger } = this.deps;
    for (const stop of store.pendingStops.of(nodeId)) {
      let deployment = store.deployments.get(stop.deploymentId);
      if (deployment !== undefined && deployment.nodeId === null && !isTerminalStatus(deployment.status)) {
        // nothing else could take it while this node was away, so nothing was moved: place it now,
        // which usually gives it back to this node (still running it) instead of destroying it
        deployment = await work.placeAndRequest(deployment, { attempt: deployment.attempt + 1, why: `${nodeId} is back` });
      }
      // moved back to it meanwhile: that copy is the one that should run (unless it was destroyed there)
      if (deployment?.nodeId !== nodeId || deployment.status === Status.Destroyed) {
        await commands.send(
          nodeId,
          createMessage(MessageType.DeployStop, { deploymentId: stop.deploymentId, reason: stop.reason }, term.meta()),
        );
        logger.info('told a returning node to stop a deployment that moved away', {
          nodeId,
          deploymentId: stop.deploymentId,
        });
      }
      store.pendingStops.remove(stop.deploymentId, nodeId);
    }
  }
}

/** Why a node was declared dead, in words a user can check against what they know of the machine. */
function silenceReason(nodeId: string, silentMs: number, detection: NodeDetection | undefined): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (detection?.stopping === true) return `${nodeId}'s agent stopped and was not back within ${seconds(silentMs)}`;
  const usual = detection === undefined ? '' : ` (it usually beats every ${seconds(detection.intervalMs)} ± ${seconds(detection.jitterMs)})`;
  return `${nodeId} sent no heartbeat for ${seconds(silentMs)}${usual}`;
}
