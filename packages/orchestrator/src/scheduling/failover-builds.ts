import type { FailoverBuild } from '@kraken/messages';
import { DeploymentStatus as Status, FailoverBuildState } from '@kraken/messages';
import type { NodeState } from '../store/records.js';
import { NodeState as NodeStates } from '../store/records.js';
import { sameCommit } from '../watch/same-commit.js';

/** What the failover planner needs to know about a deployment (a DeploymentRecord fits). */
export interface FailoverCandidate {
  id: string;
  nodeId: string | null;
  status: Status;
  commit: string | null;
  /** False for a deployment whose source is unknown (adopted): nothing can build it. */
  buildable: boolean;
}

/** What the planner needs to know about a node (a NodeRecord fits). */
export interface FailoverNode {
  id: string;
  state: NodeState;
}

/** Where a deployment's failover build stands, as the API shows it. */
export interface FailoverView {
  nodeId: string;
  commit: string;
  /** `asked`: the node was asked and has not said yet. */
  state: FailoverBuildState | 'asked';
  message?: string;
}

export type FailoverAction =
  | { kind: 'prepare'; nodeId: string; deploymentId: string; commit: string }
  | { kind: 'forget'; nodeId: string; deploymentId: string };

export interface FailoverPlanInput {
  now: number;
  deployments: readonly FailoverCandidate[];
  nodes: readonly FailoverNode[];
  /** The node to build it on (placement's choice among the others), or undefined when none can. */
  choose: (deployment: FailoverCandidate, excludeNodeIds: readonly string[]) => string | undefined;
}

interface Ask {
  nodeId: string;
  commit: string;
  atMs: number;
}

/**
 * Keeps, for each running deployment, one other node holding a build of its commit, so a move is a
 * start rather than a clone, build and test. What each node holds comes from its heartbeats (its
 * node.info `failoverBuilds`), so a leader that takes over learns it within a beat and nothing about
 * it needs to be stored. Pure: it says what to send; the orchestrator sends it.
 */
export class FailoverBuilds {
  /** node -> deployment -> what the node last said; a node that does not say (an older agent) maps to undefined. */
  private readonly reports = new Map<string, Map<string, FailoverBuild> | undefined>();
  private readonly asks = new Map<string, Ask>();
  private readonly forgetsSent = new Map<string, number>();

  constructor(private readonly askAgainAfterMs: number) {}

  /** A node's heartbeat: its failover builds now (undefined from an agent that cannot make them). */
  report(nodeId: string, builds: readonly FailoverBuild[] | undefined): void {
    this.reports.set(nodeId, builds === undefined ? undefined : new Map(builds.map((build) => [build.deploymentId, build])));
  }

  /** Whether the node can make failover builds (it said so in a heartbeat to this leader). */
  supports(nodeId: string): boolean {
    return this.reports.get(nodeId) !== undefined;
  }

  /** The live node other than `except` holding a ready build of the deployment's commit. */
  readyHolder(deployment: Pick<FailoverCandidate, 'id' | 'commit'>, nodes: readonly FailoverNode[], except?: string | null): string | undefined {
    // a local: the null check on a property does not reach into the callback
    const commit = deployment.commit;
    if (commit === null) return undefined;
    return nodes.find(
      (node) => node.id !== except && node.state === NodeStates.Alive && this.built(node.id, deployment.id, commit)?.state === FailoverBuildState.Ready,
    )?.id;
  }

  /** True when `nodeId` said it holds a ready build of this commit of the deployment. */
  holdsReady(nodeId: string, deploymentId: string, commit: string): boolean {
    return this.built(nodeId, deploymentId, commit)?.state === FailoverBuildState.Ready;
  }

  /** The failover build a user sees for a running deployment: the best one on a live node, else the pending ask. */
  view(deployment: FailoverCandidate, nodes: readonly FailoverNode[]): FailoverView | undefined {
    if (deployment.commit === null) return undefined;
    const commit = deployment.commit;
    const rank = { [FailoverBuildState.Ready]: 0, [FailoverBuildState.Building]: 1, [FailoverBuildState.Failed]: 2 };
    const held = nodes
      .filter((node) => node.id !== deployment.nodeId && node.state === NodeStates.Alive)
      .flatMap((node) => {
        const build = this.built(node.id, deployment.id, commit);
        return build === undefined ? [] : [{ nodeId: node.id, build }];
      })
      .sort((a, b) => rank[a.build.state] - rank[b.build.state]);
    const best = held[0];
    const show = (entry: { nodeId: string; build: FailoverBuild }): FailoverView => ({
      nodeId: entry.nodeId,
      commit,
      state: entry.build.state,
      ...(entry.build.message === undefined ? {} : { message: entry.build.message }),
    });
    if (best !== undefined && best.build.state !== FailoverBuildState.Failed) return show(best);
    const ask = this.asks.get(deployment.id);
    const askedFailed = held.find((entry) => entry.nodeId === ask?.nodeId);
    if (ask !== undefined && ask.commit === commit && askedFailed === undefined) return { nodeId: ask.nodeId, commit, state: 'asked' };
    const failed = askedFailed ?? best;
    if (failed !== undefined) return show(failed);
    return undefined;
  }

  /**
   * What to send now: a `prepare` for each running deployment no live node holds (or builds) a
   * build of, once every live node has reported (so a leader that just took over does not ask again
   * for builds that exist); a `forget` for builds of deployments that are gone, or of a commit a
   * deployment has moved past once its current one is ready elsewhere. An ask unanswered for
   * `askAgainAfterMs` is sent again; a node that failed a commit is not asked for it again.
   */
  plan(input: FailoverPlanInput): FailoverAction[] {
    const byId = new Map(input.deployments.map((deployment) => [deployment.id, deployment]));
    const live = input.nodes.filter((node) => node.state === NodeStates.Alive);
    const actions: FailoverAction[] = [];
    for (const deploymentId of [...this.asks.keys()]) {
      if (needsFailover(byId.get(deploymentId)) === undefined) this.asks.delete(deploymentId);
    }
    if (live.every((node) => this.reports.has(node.id))) {
      for (const deployment of input.deployments) {
        const action = this.prepareIfMissing(deployment, live, input);
        if (action !== undefined) actions.push(action);
      }
    }
    actions.push(...this.staleBuilds(byId, live, input.now));
    return actions;
  }

  private prepareIfMissing(deployment: FailoverCandidate, live: readonly FailoverNode[], input: FailoverPlanInput): FailoverAction | undefined {
    const commit = needsFailover(deployment);
    if (commit === undefined) return undefined;
    const others = live.filter((node) => node.id !== deployment.nodeId);
    const states = others.map((node) => ({ nodeId: node.id, build: this.built(node.id, deployment.id, commit) }));
    if (states.some(({ build }) => build !== undefined && build.state !== FailoverBuildState.Failed)) {
      this.asks.delete(deployment.id);
      return undefined;
    }
    const failed = states.filter(({ build }) => build?.state === FailoverBuildState.Failed).map(({ nodeId }) => nodeId);
    const ask = this.asks.get(deployment.id);
    const waiting =
      ask !== undefined && ask.commit === commit && !failed.includes(ask.nodeId) && others.some((node) => node.id === ask.nodeId) && input.now - ask.atMs < this.askAgainAfterMs;
    if (waiting) return undefined;
    const unable = others.filter((node) => !this.supports(node.id)).map((node) => node.id);
    const nodeId = input.choose(deployment, [...(deployment.nodeId === null ? [] : [deployment.nodeId]), ...failed, ...unable]);
    if (nodeId === undefined) return undefined;
    this.asks.set(deployment.id, { nodeId, commit, atMs: input.now });
    return { kind: 'prepare', nodeId, deploymentId: deployment.id, commit };
  }

  private staleBuilds(byId: ReadonlyMap<string, FailoverCandidate>, live: readonly FailoverNode[], now: number): FailoverAction[] {
    const actions: FailoverAction[] = [];
    const sentKeys = new Set<string>();
    for (const node of live) {
      for (const build of this.reports.get(node.id)?.values() ?? []) {
        const deployment = byId.get(build.deploymentId);
        const gone = deployment === undefined || deployment.status === Status.Destroyed || deployment.status === Status.Errored;
        const superseded =
          !gone &&
          deployment.commit !== null &&
          !sameCommit(build.commit, deployment.commit) &&
          this.readyHolder(deployment, live, deployment.nodeId) !== undefined;
        if (!gone && !superseded) continue;
        const key = `${node.id}/${build.deploymentId}`;
        sentKeys.add(key);
        const sentAt = this.forgetsSent.get(key);
        if (sentAt !== undefined && now - sentAt < this.askAgainAfterMs) continue;
        this.forgetsSent.set(key, now);
        actions.push({ kind: 'forget', nodeId: node.id, deploymentId: build.deploymentId });
      }
    }
    // a build the node no longer lists needs no more reminders
    for (const key of this.forgetsSent.keys()) if (!sentKeys.has(key)) this.forgetsSent.delete(key);
    return actions;
  }

  private built(nodeId: string, deploymentId: string, commit: string): FailoverBuild | undefined {
    const build = this.reports.get(nodeId)?.get(deploymentId);
    return build !== undefined && sameCommit(build.commit, commit) ? build : undefined;
  }
}

/** The commit a deployment needs a failover build of, or undefined when it needs none. */
function needsFailover(deployment: FailoverCandidate | undefined): string | undefined {
  if (deployment === undefined || !deployment.buildable || deployment.nodeId === null || deployment.commit === null) return undefined;
  return deployment.status === Status.Running ? deployment.commit : undefined;
}

