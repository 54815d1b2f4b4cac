import type { Logger } from '@kraken/common';
import { toKrakenError } from '@kraken/common';
import type { DeployPrepareBody, FailoverBuild } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentRecord } from '../store/records.js';
import type { FailoverView } from './failover-builds.js';
import { FailoverBuilds } from './failover-builds.js';
import { placeDeployment } from './place-deployment.js';

/** A failover build asked for and not reported within this is asked for again (the command was lost, or the node forgot it). */
const ASK_AGAIN_MS = 60_000;

export interface FailoverKeeperOptions {
  store: OrchestratorStore;
  defaultMemoryMb: number;
  logger: Logger;
  /** Sends `deploy.prepare` to a node's queue. */
  prepare: (nodeId: string, body: DeployPrepareBody) => Promise<void>;
  /** False for a deployment nothing can build (adopted: its source is unknown). */
  buildable: (deployment: DeploymentRecord) => boolean;
}

/**
 * The orchestrator's side of failover builds (FailoverBuilds decides; this feeds it the store and
 * sends what it decides): each running deployment has a build of its commit on another node, so a
 * move is a start, not a clone, build and test.
 */
export class FailoverKeeper {
  private readonly builds = new FailoverBuilds(ASK_AGAIN_MS);

  constructor(private readonly options: FailoverKeeperOptions) {}

  /** A node's heartbeat said what failover builds it holds (undefined from an older agent). */
  report(nodeId: string, builds: readonly FailoverBuild[] | undefined): void {
    this.builds.report(nodeId, builds);
  }

  /** Placement's preference for a deployment: a live node other than its own holding a ready build of its commit. */
  preference(deployment: DeploymentRecord): { preferNodeId?: string } {
    const holder = this.builds.readyHolder(deployment, this.options.store.nodes.list(), deployment.nodeId);
    return holder === undefined ? {} : { preferNodeId: holder };
  }

  /** Whether the deployment's request to its (new) node should ask for the build that node holds. */
  runsKeptBuild(deployment: DeploymentRecord): boolean {
    return deployment.nodeId !== null && deployment.commit !== null && this.builds.holdsReady(deployment.nodeId, deployment.id, deployment.commit);
  }

  /** Where a running deployment's failover build stands. */
  view(id: string): FailoverView | undefined {
    const deployment = this.options.store.deployments.get(id);
    if (deployment === undefined || deployment.status !== Status.Running) return undefined;
    return this.builds.view(this.candidate(deployment), this.options.store.nodes.list());
  }

  /**
   * Asks for the missing failover builds and has nodes free the ones nothing needs. A command that
   * cannot be sent is asked for again on a later pass.
   */
  async keep(now: number): Promise<void> {
    const { store } = this.options;
    const deployments = store.deployments.list();
    const nodes = store.nodes.list();
    const actions = this.builds.plan({
      now,
      deployments: deployments.map((deployment) => this.candidate(deployment)),
      nodes,
      choose: (candidate, excludeNodeIds) => {
        const deployment = store.deployments.get(candidate.id);
        if (deployment === undefined) return undefined;
        const decision = placeDeployment({
          nodes,
          deployments,
          request: { runtime: deployment.runtime, memoryMb: deployment.memoryMb, limited: deployment.memoryMb !== null, excludeNodeIds },
          defaultMemoryMb: this.options.defaultMemoryMb,
        });
        return decision.ok ? decision.value.nodeId : undefined;
      },
    });
    for (const action of actions) {
      const deployment = store.deployments.get(action.deploymentId);
      const body: DeployPrepareBody =
        action.kind === 'forget' || deployment === undefined
          ? { deploymentId: action.deploymentId, forget: true }
          : { deploymentId: deployment.id, srcUrl: deployment.srcUrl, branch: deployment.branch, commit: action.commit, env: deployment.env, runtime: deployment.runtime };
      const about = { deploymentId: action.deploymentId, nodeId: action.nodeId, ...(action.kind === 'prepare' ? { commit: action.commit } : {}) };
      try {
        await this.options.prepare(action.nodeId, body);
        this.options.logger.info(action.kind === 'prepare' ? 'asked a node for a failover build' : 'told a node to free a failover build nothing needs', about);
      } catch (error) {
        this.options.logger.warn('could not send deploy.prepare; will ask again', { ...about, error: toKrakenError(error) });
      }
    }
  }

  private candidate(deployment: DeploymentRecord) {
    return { ...deployment, buildable: this.options.buildable(deployment) };
  }
}
