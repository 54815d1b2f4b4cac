// Pure presentation helpers: no React, so unit tests cover them directly.
import type { ApplicationStatus, ClusterNode, Deployment, EnvVarInput, NodeState } from './api/types.js';
import { applicationStatuses } from './api/types.js';

/** "BUILDING_DEPLOYMENT" -> "Building deployment". */
export function statusLabel(status: ApplicationStatus): string {
  const words = status.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * What a deployment's status tag says: "Crash-looping" (in the colour of trouble) for a RUNNING app
 * that keeps ending and being restarted, since it is down more than it is up; "Running, not
 * answering" for one that runs but fails its ready checks (the ingress sends it nothing); else its
 * status.
 */
export function statusTag(status: ApplicationStatus, crashLooping = false, ready = true): { label: string; color: string } {
  if (crashLooping && status === 'RUNNING') return { label: 'Crash-looping', color: 'volcano' };
  if (!ready && status === 'RUNNING') return { label: 'Running, not answering', color: 'orange' };
  return { label: statusLabel(status), color: statusColor(status) };
}

/** "3 restarts; last exited with code 1 after 3.0 s, 12:00:03", or undefined before the app ever ended on its own. */
export function restartsSummary(deployment: Pick<Deployment, 'restartCount' | 'lastExit'>, timeOf: (unixSeconds: number) => string): string | undefined {
  const last = deployment.lastExit;
  if (last === null && deployment.restartCount === 0) return undefined;
  const restarts = `${String(deployment.restartCount)} restart${deployment.restartCount === 1 ? '' : 's'}`;
  return last === null ? restarts : `${restarts}; last ${last.reason}, ${timeOf(last.time)}`;
}

/** A running deployment's failover build, as the API reports it. */
export interface FailoverBuildView {
  node: string;
  commit: string;
  state: string;
  message?: string | null;
}

/** What a move of a running app would cost, in words: a start on a node holding its build, or a build. */
export function failoverSummary(failover: FailoverBuildView | null): string {
  if (failover === null) return 'no other node can run it now: a move waits for one';
  const commit = failover.commit.slice(0, 7);
  if (failover.state === 'ready') return `${failover.node} holds a build of ${commit}: if its node is lost, it starts there without a build`;
  if (failover.state === 'building') return `${failover.node} is building ${commit} in the background, so a move there is a start`;
  if (failover.state === 'asked') return `${failover.node} was asked to build ${commit} in the background`;
  return `${failover.node} could not build ${commit}${failover.message == null ? '' : `: ${failover.message}`}; a move there would build it again`;
}

/** antd Tag colours: green when it serves, red when it failed, grey when gone, gold when stopped on request, blue while moving. */
export function statusColor(status: ApplicationStatus): string {
  if (status === 'RUNNING') return 'green';
  if (status === 'STOPPED') return 'gold';
  if (status === 'ERRORED') return 'red';
  if (status === 'DESTROYED') return 'default';
  if (status.startsWith('DESTRUCTION') || status === 'DELEGATING_DESTRUCTION') return 'orange';
  return 'processing';
}

export function nodeStateColor(state: NodeState): string {
  return state === 'ALIVE' ? 'green' : state === 'SUSPECT' ? 'orange' : 'red';
}

/**
 * A node's part in orchestration: the one acting as orchestrator leads (whatever priority it
 * started with: a standby that took over leads now); others that may lead (priority 0 or 1) stand by
 * to take over; the rest only run apps.
 */
export function nodeRole(node: Pick<ClusterNode, 'id' | 'orchestrationPriority'>, orchestrator: string | undefined): 'leader' | 'standby' | 'worker' {
  if (node.id === orchestrator) return 'leader';
  return node.orchestrationPriority === 0 || node.orchestrationPriority === 1 ? 'standby' : 'worker';
}

/**
 * How a node runs apps and what that enforces: "docker" with "container, limits"; "process" with
 * "runs as the agent's user, no limits". A node whose Docker engine stopped answering runs none;
 * an agent older than the isolation field says nothing of it.
 */
export function nodeRuntime(node: Pick<ClusterNode, 'runtimes' | 'isolation'>): { runtime: string; enforces: string | undefined } {
  if (node.runtimes.length === 0) return { runtime: 'none', enforces: undefined };
  return { runtime: node.runtimes.join(', '), enforces: node.isolation ?? undefined };
}

/** The nodes that may take over from the orchestrator, in id order. */
export function standbysOf<T extends Pick<ClusterNode, 'id' | 'orchestrationPriority'>>(nodes: readonly T[], orchestrator: string | undefined): T[] {
  return nodes.filter((n) => nodeRole(n, orchestrator) === 'standby').sort((a, b) => a.id.localeCompare(b.id));
}

/** Where the leader moved: set when the cluster's orchestrator is another than the one seen before. */
export interface LeaderMove {
  from: string;
  to: string;
}

export function leaderMoveOf(previous: string | undefined, current: string): LeaderMove | undefined {
  return previous === undefined || previous === current ? undefined : { from: previous, to: current };
}

export function leaderMoveMessage({ from, to }: LeaderMove): string {
  return `The leader moved: ${to} leads the cluster now (${from} did before). The page follows it: live updates come from ${to}.`;
}

/**
 * A node's apps: those it reports running, and those placed on it that it has not reported yet
 * (still building, say), without destroyed ones. Sorted, so rows do not reorder between beats.
 */
export function nodeDeploymentIds(
  node: Pick<ClusterNode, 'id' | 'deployments'>,
  deployments: readonly Pick<Deployment, 'id' | 'node' | 'status'>[],
): string[] {
  const placed = deployments.filter((d) => d.node === node.id && d.status !== 'DESTROYED').map((d) => d.id);
  return [...new Set([...node.deployments, ...placed])].sort();
}

const wholeAndHundredths = new Intl.NumberFormat('en', { maximumFractionDigits: 2, useGrouping: false });
const threeDigits = new Intl.NumberFormat('en', { maximumSignificantDigits: 3, useGrouping: false });

/**
 * A node extension's value for the eye, by the type the API gives with it: numbers rounded (47.5,
 * 0.00123, never 0 for a small reading), booleans as yes/no, text as it is. The page shows the
 * exact value on hover.
 */
export function formatExtensionValue({ value, type }: { value: string; type: string }): string {
  if (type === 'boolean') return value === 'true' ? 'yes' : 'no';
  if (type !== 'number') return value;
  const number = Number(value);
  if (!Number.isFinite(number)) return value;
  return (Math.abs(number) >= 1 || number === 0 ? wholeAndHundredths : threeDigits).format(number);
}

/** True once nothing more will happen to a deployment without a user action. */
export function isSettled(status: ApplicationStatus): boolean {
  return status === 'RUNNING' || status === 'STOPPED' || status === 'DESTROYED' || status === 'ERRORED';
}

/** Stop: only a running app. */
export function canStop(status: ApplicationStatus): boolean {
  return status === 'RUNNING';
}

/** Start: only an app stopped on request (it runs again from what was built). */
export function canStart(status: ApplicationStatus): boolean {
  return status === 'STOPPED';
}

/** Restart in place: a running app, or a stopped one (which just starts). */
export function canRestart(status: ApplicationStatus): boolean {
  return status === 'RUNNING' || status === 'STOPPED';
}

/** Whether cancelling makes sense: not when it is already gone, going, or failed (nothing runs). */
export function canCancel(status: ApplicationStatus): boolean {
  return !canRemove(status) && !status.startsWith('DESTRUCTION') && status !== 'DELEGATING_DESTRUCTION';
}

/** Whether it can be removed from the list: only once nothing of it runs (the API refuses the rest). */
export function canRemove(status: ApplicationStatus): boolean {
  return status === 'DESTROYED' || status === 'ERRORED';
}

/** Deployments per status, every status present (0 when none), in lifecycle order. */
export function countByStatus(deployments: readonly Pick<Deployment, 'status'>[]): Record<ApplicationStatus, number> {
  const counts = Object.fromEntries(applicationStatuses.map((s) => [s, 0])) as Record<ApplicationStatus, number>;
  for (const d of deployments) counts[d.status] += 1;
  return counts;
}

/** "4s", "3m 20s", "2h 5m", "3d 4h": a short age for seconds elapsed. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** MB as "512 MB" or "7.8 GB". */
export function formatMb(mb: number): string {
  return mb < 1024 ? `${Math.round(mb)} MB` : `${(mb / 1024).toFixed(1)} GB`;
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses the create form's environment box: one NAME=value a line, blank lines ignored.
 * Errors name the line and what is allowed, as the API would.
 */
export function parseEnv(text: string): { ok: true; env: EnvVarInput[] } | { ok: false; error: string } {
  const env: EnvVarInput[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (eq < 0 || !envName.test(name))
      return { ok: false, error: `line ${index + 1}: expected NAME=value where NAME has letters, digits and _ and does not start with a digit; got "${line}"` };
    env.push({ name, value: line.slice(eq + 1) });
  }
  return { ok: true, env };
}

/** Log lines whose text contains the search, case-insensitive; all when the search is blank. */
export function filterLines<T extends { text: string }>(lines: readonly T[], search: string): T[] {
  const needle = search.trim().toLowerCase();
  return needle === '' ? [...lines] : lines.filter((l) => l.text.toLowerCase().includes(needle));
}

/** Adds lines to a log, dropping ones already there (a page and a live batch may overlap), ordered by seq. */
export function mergeLines<T extends { seq: number }>(existing: readonly T[], incoming: readonly T[]): T[] {
  const last = existing.at(-1)?.seq ?? 0;
  const fresh = incoming.filter((l) => l.seq > last);
  if (fresh.length === incoming.length && fresh.every((l, i) => i === 0 || (fresh[i - 1]?.seq ?? 0) < l.seq)) return [...existing, ...fresh];
  const bySeq = new Map<number, T>();
  for (const l of [...existing, ...incoming]) bySeq.set(l.seq, l);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
