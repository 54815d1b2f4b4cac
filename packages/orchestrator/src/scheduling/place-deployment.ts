import type { Result } from '@kraken/common';
import { ErrorCode, KrakenError, err, ok } from '@kraken/common';
import type { DeploymentStatus, NodeInfoBody, Runtime } from '@kraken/messages';
import { DeploymentStatus as Status, Runtime as Runtimes, isTerminalStatus } from '@kraken/messages';
import { canRun } from '../liveness/node-health.js';
import type { NodeState } from '../store/records.js';
import { NodeState as NodeStates } from '../store/records.js';

/** What scheduling needs to know about a node (a NodeRecord fits). */
export interface SchedulableNode {
  id: string;
  state: NodeState;
  info: NodeInfoBody;
}

/** What scheduling needs to know about a deployment (a DeploymentRecord fits). */
export interface ScheduledDeployment {
  id: string;
  nodeId: string | null;
  status: DeploymentStatus;
  memoryMb: number | null;
}

export interface PlacementRequest {
  /** @default 'docker' */
  runtime?: Runtime;
  /** RAM the app needs. @default defaultMemoryMb */
  memoryMb?: number | null;
  /** Nodes not to use (the one a deployment is moving away from). */
  excludeNodeIds?: readonly string[];
  /** A node that holds a ready build of it (its failover node): chosen when it can run it, whatever the headroom. */
  preferNodeId?: string;
  /**
   * The request sets a memory limit: a node that enforces limits goes before one that does not
   * (whatever the headroom), and a placement on one that does not says so.
   */
  limited?: boolean;
}

export interface PlacementInput {
  nodes: readonly SchedulableNode[];
  deployments: readonly ScheduledDeployment[];
  request: PlacementRequest;
  /** RAM assumed for an app that does not say. @default 256 */
  defaultMemoryMb?: number;
}

export interface PlacementDecision {
  nodeId: string;
  /** Why this node, in a sentence a user can read. */
  reason: string;
}

// Headroom weights: free RAM matters most (running out of memory kills apps), then CPU load, then
// how many apps a node already runs (spreads small apps that barely move the other two).
const RAM_WEIGHT = 0.5;
const LOAD_WEIGHT = 0.3;
const COUNT_WEIGHT = 0.2;
const SCORE_EPSILON = 1e-9;

// Deployments placed but not running yet: the node's reported free RAM does not show them.
const startingStatuses: ReadonlySet<DeploymentStatus> = new Set([
  Status.DeploymentRequested,
  Status.ValidatingDeploymentData,
  Status.RetrievingApplicationData,
  Status.DelegatingDeployment,
  Status.BuildingDeployment,
  Status.TestingDeployment,
  Status.Deploying,
  Status.UpdateRequested,
]);

interface Candidate {
  node: SchedulableNode;
  freeMb: number;
  deployments: number;
  score: number;
}

/**
 * Picks the node with the most headroom that can run the app: alive (never suspect or dead), with
 * the runtime, with enough free RAM. Ties go to the node with fewer deployments, then by id, so
 * equal nodes fill evenly and the choice is stable. Pure: the caller persists the decision.
 */
export function placeDeployment(input: PlacementInput): Result<PlacementDecision, KrakenError> {
  const runtime = input.request.runtime ?? Runtimes.Docker;
  const neededMb = input.request.memoryMb ?? input.defaultMemoryMb ?? 256;
  const excluded = new Set(input.request.excludeNodeIds ?? []);
  const rejected: string[] = [];
  const candidates: Omit<Candidate, 'score'>[] = [];

  for (const node of [...input.nodes].sort((a, b) => compareIds(a.id, b.id))) {
    const active = input.deployments.filter((d) => d.nodeId === node.id && !isTerminalStatus(d.status));
    const reservedMb = active
      .filter((d) => startingStatuses.has(d.status))
      .reduce((sum, d) => sum + (d.memoryMb ?? input.defaultMemoryMb ?? 256), 0);
    const freeMb = Math.max(0, node.info.ram.freeMb - reservedMb);
    const why = whyNot(node, excluded, runtime, freeMb, neededMb);
    if (why === undefined) candidates.push({ node, freeMb, deployments: active.length });
    else rejected.push(`${node.id} ${why}`);
  }

  if (candidates.length === 0) {
    const detail = rejected.length === 0 ? 'no nodes have reported in' : rejected.join('; ');
    return err(
      new KrakenError(ErrorCode.Unavailable, `no node can run it (${runtime}, ${formatMb(neededMb)}): ${detail}`, {
        details: { runtime, neededMb, rejected },
      }),
    );
  }

  const maxFree = Math.max(...candidates.map((c) => c.freeMb), 1);
  const maxCount = Math.max(...candidates.map((c) => c.deployments));
  const scored: Candidate[] = candidates.map((c) => ({
    ...c,
    score:
      RAM_WEIGHT * (c.freeMb / maxFree) +
      LOAD_WEIGHT * Math.max(0, 1 - loadPerCore(c.node)) +
      COUNT_WEIGHT * (1 - c.deployments / (maxCount + 1)),
  }));
  scored.sort(
    (a, b) =>
      (Math.abs(a.score - b.score) > SCORE_EPSILON ? b.score - a.score : 0) ||
      a.deployments - b.deployments ||
      compareIds(a.node.id, b.node.id),
  );
  const limited = input.request.limited === true;
  // a limit the user asked for is worth more than headroom (the sort is stable: headroom next)
  if (limited) scored.sort((a, b) => Number(enforcesLimits(b.node)) - Number(enforcesLimits(a.node)));
  const preferred = scored.findIndex((c) => c.node.id === input.request.preferNodeId);
  const limitHeldAnyway = !limited || scored.every((c) => !enforcesLimits(c.node));
  // a start instead of a clone, build and test is worth more than headroom, not than a limit held
  const preferredWins = preferred !== -1 && (limitHeldAnyway || enforcesLimits(scored[preferred]?.node));
  if (preferredWins) scored.unshift(...scored.splice(preferred, 1));
  const [winner, ...others] = scored as [Candidate, ...Candidate[]];
  const lead = preferredWins
    ? 'holds a ready build of it (its failover node)'
    : others.length === 0
      ? 'the only node that can run it'
      : limited && enforcesLimits(winner.node) && others.some((c) => !enforcesLimits(c.node))
        ? 'most headroom of the nodes that enforce its memory limit'
        : 'most headroom';
  const unenforced = limited && !enforcesLimits(winner.node) ? '; its memory limit is not enforced there (no node that can run it enforces limits)' : '';
  const parts = [
    `${winner.node.id}: ${lead} (${describeCandidate(winner)})${unenforced}`,
    ...others.map((c) => `${c.node.id} has ${describeCandidate(c)}`),
    ...rejected,
  ];
  return ok({ nodeId: winner.node.id, reason: parts.join('; ') });
}

function whyNot(
  node: SchedulableNode,
  excluded: ReadonlySet<string>,
  runtime: Runtime,
  freeMb: number,
  neededMb: number,
): string | undefined {
  if (excluded.has(node.id)) return 'is the node it is moving away from';
  if (node.state === NodeStates.Suspect) return 'is suspect (missed heartbeats)';
  if (node.state === NodeStates.Dead) return 'is dead';
  if (!node.info.runtimes.includes(runtime)) return `has no ${runtime} runtime`;
  if (!canRun(node.info, runtime)) return `cannot run ${runtime} apps now (its Docker engine is not answering)`;
  if (freeMb < neededMb) return `has ${formatMb(freeMb)} free, needs ${formatMb(neededMb)}`;
  return undefined;
}

/** Whether the node's runtime holds apps to their memory and CPU limits; an agent too old to say is taken not to. */
function enforcesLimits(node: SchedulableNode | undefined): boolean {
  return node?.info.isolation?.limits === true;
}

function loadPerCore(node: SchedulableNode): number {
  return node.info.load.m1 / Math.max(1, node.info.cpu.cores);
}

function describeCandidate(c: Candidate): string {
  const cores = c.node.info.cpu.cores;
  return (
    `${formatMb(c.freeMb)} free RAM, load ${c.node.info.load.m1.toFixed(1)} on ${cores} ${cores === 1 ? 'core' : 'cores'}, ` +
    `${c.deployments} ${c.deployments === 1 ? 'deployment' : 'deployments'}`
  );
}

export function formatMb(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
