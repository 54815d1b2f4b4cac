import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';
import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status, MessageType, createMessage, isTerminalStatus } from '@kraken/messages';
import type { EmitEvent } from '../events.js';
import type { LeaderTerm } from '../leadership/leader-term.js';
import type { CompiledOrchestratorOptions } from '../options.js';
import type { FailoverKeeper } from '../scheduling/failover-keeper.js';
import { placeDeployment } from '../scheduling/place-deployment.js';
import { allocatePort } from '../scheduling/ports.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentPatch } from '../store/deployment-table.js';
import type { DeploymentRecord } from '../store/records.js';
import { adoptedCannot, isAdopted } from '../store/adopted.js';
import type { NodeCommands } from './node-commands.js';

export interface WorkSenderOptions {
  store: OrchestratorStore;
  logger: Logger;
  options: Pick<CompiledOrchestratorOptions, 'defaultMemoryMb' | 'portRange'>;
  term: Pick<LeaderTerm, 'nodeId' | 'meta'>;
  commands: Pick<NodeCommands, 'send'>;
  failoverBuilds: Pick<FailoverKeeper, 'preference' | 'runsKeptBuild'>;
  emit: EmitEvent;
}

/** How a deployment is placed: its attempt, the node it leaves (excluded) and why, for the status message. */
export interface Placement {
  attempt: number;
  movingFrom?: string;
  why?: string;
}

/**
 * What every part of the orchestrator shares to put work on nodes: recording a status change,
 * placing a deployment and sending it to its node as a deploy.request.
 */
export class WorkSender {
  /** Host ports a node reported taken by something else; new placements avoid them. */
  private readonly takenPorts = new Set<number>();

  constructor(private readonly deps: WorkSenderOptions) {}

  /** Stores a status this orchestrator decided (with `patch`) and tells the listeners. */
  changeStatus(
    id: string,
    status: DeploymentStatus,
    message: string,
    patch: DeploymentPatch = {},
  ): DeploymentRecord {
    const { store, term } = this.deps;
    const changed = store.deployments.setStatus(id, status, { message, nodeId: term.nodeId }, patch) ?? store.deployments.require(id);
    this.deps.emit('deploymentChanged', changed);
    return changed;
  }

  /** A host port a node reported taken by something else: no later placement hands it out. */
  avoidPort(port: number): void {
    this.takenPorts.add(port);
  }

  /**
   * Places a deployment (keeping its port, which is free cluster-wide), persists the placement,
   * then sends the request. With no node able to run it, it waits in DeploymentRequested with
   * the reason, and tick() tries again.
   */
  async placeAndRequest(deployment: DeploymentRecord, how: Placement): Promise<DeploymentRecord> {
    const { store, logger, options, failoverBuilds } = this.deps;
    const prefix = how.why === undefined ? '' : `${how.why}; `;
    if (isAdopted(deployment)) {
      // nothing can build it: waiting for a node would wait forever
      logger.warn('an adopted deployment needs a node but cannot be built anywhere', { deploymentId: deployment.id });
      return this.changeStatus(deployment.id, Status.Errored, `${prefix}${adoptedCannot('run on another node')}`, { nodeId: null, attempt: how.attempt });
    }
    const decision = placeDeployment({
      nodes: store.nodes.list(),
      deployments: store.deployments.list(),
      request: {
        runtime: deployment.runtime,
        memoryMb: deployment.memoryMb,
        limited: deployment.memoryMb !== null,
        excludeNodeIds: how.movingFrom === undefined ? [] : [how.movingFrom],
        ...failoverBuilds.preference(deployment),
      },
      defaultMemoryMb: options.defaultMemoryMb,
    });
    const leaving = deployment.nodeId;
    if (leaving !== null && how.movingFrom === undefined && !isTerminalStatus(deployment.status) && !(decision.ok && decision.value.nodeId === leaving)) {
      // taken off a node that may still run it (a redeploy while that node is suspect, or while its
      // engine is down): it must not run twice, so that node is told to stop it once it is back
      const where = decision.ok ? `placed on ${decision.value.nodeId}` : 'waiting for a node';
      store.pendingStops.add({ deploymentId: deployment.id, nodeId: leaving, reason: `moved away: ${prefix}${where}` });
    }
    if (!decision.ok) {
      const message = `${prefix}waiting for a node: ${decision.error.message}`;
      if (deployment.status === Status.DeploymentRequested && deployment.nodeId === null && deployment.statusMessage === message)
        return deployment;
      logger.warn('deployment is waiting for a node', { deploymentId: deployment.id, reason: decision.error.message });
      return this.changeStatus(deployment.id, Status.DeploymentRequested, message, { nodeId: null, attempt: how.attempt });
    }
    const port = deployment.port ?? allocatePort(this.portsInUse(deployment.id), options.portRange);
    const reason = `${prefix}${decision.value.reason}`;
    // the history keeps each status's message, not the placement reason: a move says why in both
    const placed = this.changeStatus(deployment.id, Status.DelegatingDeployment, `${prefix}placed on ${decision.value.nodeId}`, {
      nodeId: decision.value.nodeId,
      placementReason: reason,
      port,
      attempt: how.attempt,
      commit: deployment.commit,
    });
    logger.info('deployment placed', {
      deploymentId: deployment.id,
      nodeId: decision.value.nodeId,
      attempt: how.attempt,
      reason,
    });
    try {
      await this.sendRequest(placed);
    } catch (error) {
      const failure = toKrakenError(error);
      if (failure.code === ErrorCode.InvalidInput) {
        // the request itself is wrong (it fails to encode): placing it again would fail the same way
        logger.error('could not send deploy.request: the request is invalid', { deploymentId: deployment.id, error: failure });
        return this.changeStatus(deployment.id, Status.Errored, `cannot send the deploy request: ${failure.message}`, { nodeId: null });
      }
      logger.error('could not send deploy.request; will place it again', { deploymentId: deployment.id, error: failure });
      return this.changeStatus(
        deployment.id,
        Status.DeploymentRequested,
        `could not reach ${decision.value.nodeId}: ${failure.message}`,
        { nodeId: null },
      );
    }
    return placed;
  }

  /** Sends the deployment as it is stored to the node it is placed on. */
  async sendRequest(deployment: DeploymentRecord): Promise<void> {
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
        ...(deployment.status !== Status.UpdateRequested && this.deps.failoverBuilds.runsKeptBuild(deployment) ? { fromKept: true } : {}),
        runtime: deployment.runtime,
        env: deployment.env,
        ...(deployment.commit === null ? {} : { commit: deployment.commit }),
        ...(deployment.port === null ? {} : { port: deployment.port }),
        ...(deployment.memoryMb === null ? {} : { limits: { memoryMb: deployment.memoryMb } }),
      },
      this.deps.term.meta(),
    );
    await this.deps.commands.send(deployment.nodeId, message);
  }

  private portsInUse(exceptId: string): number[] {
    return [
      ...this.takenPorts,
      ...this.deps.store.deployments
        .list()
        .filter((d) => d.id !== exceptId && d.port !== null && !isTerminalStatus(d.status))
        .map((d) => d.port as number),
    ];
  }
}
