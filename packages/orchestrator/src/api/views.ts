import { redactCredentials } from '@kraken/common';
import { describeIsolation } from '@kraken/messages';
import type { NodeInfoExtensions } from '@kraken/messages';
import type { NodeDetection } from '../liveness/liveness.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentRecord, NodeRecord, StatusHistoryEntry, StoredLogLine } from '../store/records.js';
import type { NodeSample as StoredNodeSample } from '../stats/node-history.js';
import type { StatsSample as StoredStatsSample } from '../stats/stats-history.js';
import type { AppExit, Deployment, EnvVar, LogLine, LogPage, Node, NodeExtension, NodeSample, Shape, StatsSample, StatusHistoryItem } from './schema/types.js';

/** What the API shows instead of an env value: values are secrets and never leave the store. */
const MASKED = '***';

export function unixSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

function intOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

const deploymentViews = new WeakMap<DeploymentRecord, { history: readonly StatusHistoryEntry[]; view: Shape<Deployment> }>();
const historyViews = new WeakMap<readonly StatusHistoryEntry[], Shape<StatusHistoryItem>[]>();

/**
 * The original Kraken API's shape of a deployment with its history. Store records and history
 * lists are frozen and replaced on change, so a view is built once per change and shared by every
 * request after it: listing 1,000 deployments does not rebuild 1,000 objects and parse 8,000 times.
 */
function deploymentView(record: DeploymentRecord, history: readonly StatusHistoryEntry[]): Shape<Deployment> {
  const cached = deploymentViews.get(record);
  if (cached?.history === history) return cached.view;
  const view = Object.freeze(buildDeploymentView(record, historyListView(history)));
  deploymentViews.set(record, { history, view });
  return view;
}

/** A deployment as the API shows it, its history read from the store. */
export function deploymentViewOf(store: OrchestratorStore, record: DeploymentRecord): Shape<Deployment> {
  return deploymentView(record, store.deployments.history(record.id));
}

function historyListView(history: readonly StatusHistoryEntry[]): Shape<StatusHistoryItem>[] {
  let view = historyViews.get(history);
  if (view === undefined) {
    view = Object.freeze(history.map((entry) => Object.freeze(historyView(entry)))) as Shape<StatusHistoryItem>[];
    historyViews.set(history, view);
  }
  return view;
}

function buildDeploymentView(record: DeploymentRecord, statusHistory: Shape<StatusHistoryItem>[]): Shape<Deployment> {
  return {
    id: record.id,
    // the stored URL keeps its credentials for cloning; nobody reading the API sees them
    srcUrl: redactCredentials(record.srcUrl),
    gitBranch: record.branch,
    version: record.version,
    commit: record.commit,
    port: record.port === null ? null : String(record.port),
    status: record.status,
    statusMessage: record.statusMessage === null ? null : redactCredentials(record.statusMessage),
    statusHistory,
    resultsUrl: `/log/${encodeURIComponent(record.id)}`,
    deploymentUrl: record.url,
    name: record.name,
    appUrl: record.name === null ? null : appUrlOf(record.name),
    node: record.nodeId,
    size: intOrNull(record.imageSizeMb),
    memMb: intOrNull(record.memMb),
    maxMemMb: intOrNull(record.maxMemMb),
    cpuUsage: record.cpuPercent,
    statsTime: record.statsAt === null ? null : unixSeconds(record.statsAt),
    placementReason: record.placementReason,
    crashLooping: record.restarts?.looping ?? false,
    restartCount: record.restarts?.count ?? 0,
    lastExit: lastExitView(record),
    ready: record.readiness?.ready !== false,
    notReadySince: record.readiness?.ready === false ? unixSeconds(record.readiness.since) : null,
    removedAt: record.removedAt === null ? null : unixSeconds(record.removedAt),
    // frozen all the way down, so the fast query path may remember what it made of the view
    env: Object.freeze(maskedEnv(record.env).map((variable) => Object.freeze(variable))) as Shape<EnvVar>[],
    watch: record.watch,
  };
}

function lastExitView(record: DeploymentRecord): Shape<AppExit> | null {
  const exit = record.restarts?.lastExit;
  if (exit === undefined) return null;
  return Object.freeze({ code: exit.code ?? null, signal: exit.signal ?? null, time: unixSeconds(exit.at), reason: exit.reason });
}

/** The address a deployment keeps: its name under `.local`, through the ingress every agent runs (port 80 by default). */
function appUrlOf(name: string): string {
  return `http://${name}.local`;
}

export function maskedEnv(env: Record<string, string>): Shape<EnvVar>[] {
  return Object.keys(env)
    .sort()
    .map((name) => ({ name, value: MASKED }));
}

export function historyView(entry: StatusHistoryEntry): Shape<StatusHistoryItem> {
  return { status: entry.status, time: unixSeconds(entry.at), message: entry.message === null ? null : redactCredentials(entry.message), node: entry.nodeId };
}

/** A node as stored, with what this leader's failure detector has learned of it (if anything yet). */
export function nodeView(record: NodeRecord, detection?: NodeDetection): Shape<Node> {
  const { info } = record;
  return {
    id: record.id,
    model: info.cpu.model,
    addr: info.addresses[0] ?? null,
    orchestrationPriority: record.orchestrationPriority,
    uptime: info.uptimeSec,
    ramFree: Math.round(info.ram.freeMb),
    ramUsed: Math.round(info.ram.usedMb),
    loadAvg5: info.load.m5,
    cpuPercent: info.cpuBusyPercent ?? null,
    ramTotal: info.ram.totalMb,
    diskUsedMb: info.disk?.usedMb ?? null,
    diskTotalMb: info.disk?.totalMb ?? null,
    currentRamPercent: info.ram.totalMb > 0 ? (info.ram.usedMb / info.ram.totalMb) * 100 : 0,
    updateTime: unixSeconds(record.updateTime),
    deployments: info.deployments,
    state: record.state,
    arch: info.arch,
    runtimes: info.runtimes,
    isolation: info.isolation === undefined ? null : describeIsolation(info.isolation, { reasons: true }),
    hostname: info.hostname,
    extensions: extensionsView(info.extensions),
    noticeLossAfterMs: detection?.noticeLossAfterMs ?? null,
    heartbeatIntervalMs: detection?.intervalMs ?? null,
    heartbeatJitterMs: detection?.jitterMs ?? null,
    lastPulseMsAgo: detection?.lastPulseMsAgo ?? null,
    reachable: detection?.reachable ?? false,
  };
}

/**
 * A node's add-on readings as key/value/type rows: GraphQL has no union of scalars, so the value
 * travels as text and its type says how a client may format it. Sorted by key (plain string order, not
 * locale), so a client's list does not reorder between heartbeats.
 */
function extensionsView(extensions: NodeInfoExtensions | undefined): Shape<NodeExtension>[] {
  if (extensions === undefined) return [];
  return Object.entries(extensions)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value: String(value), type: typeof value }));
}

const sampleViews = new WeakMap<StoredStatsSample, Shape<StatsSample>>();

/** Samples are frozen and never change, so each is turned into its view once. */
export function statsSampleView(sample: StoredStatsSample): Shape<StatsSample> {
  let view = sampleViews.get(sample);
  if (view === undefined) {
    view = Object.freeze({ time: unixSeconds(sample.at), cpuUsage: sample.cpuPercent, memMb: sample.memMb, maxMemMb: sample.maxMemMb });
    sampleViews.set(sample, view);
  }
  return view;
}

const nodeSampleViews = new WeakMap<StoredNodeSample, Shape<NodeSample>>();

/** Like stats samples, node samples are frozen: each becomes its view once. */
export function nodeSampleView(sample: StoredNodeSample): Shape<NodeSample> {
  let view = nodeSampleViews.get(sample);
  if (view === undefined) {
    view = Object.freeze({ ...sample, at: unixSeconds(sample.at) });
    nodeSampleViews.set(sample, view);
  }
  return view;
}

export function logLineView(line: StoredLogLine): Shape<LogLine> {
  return { seq: line.seq, stream: line.stream, text: line.text, time: unixSeconds(line.at), release: line.release };
}

/** The most lines one page of a log may ask for. */
export const MAX_LOG_PAGE = 5000;

/** A page of a deployment's log (of one release's lines, with `release`). */
export function logPageView(store: OrchestratorStore, deploymentId: string, page: { after: number; limit: number; release?: number }): Shape<LogPage> {
  const lines = store.logs.read(deploymentId, page);
  return {
    lines: lines.map(logLineView),
    next: lines.at(-1)?.seq ?? page.after,
    dropped: store.logs.counters(deploymentId).dropped,
  };
}
