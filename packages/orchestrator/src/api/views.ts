import type { DeploymentRecord, NodeRecord, StatusHistoryEntry, StoredLogLine } from '../store/records.js';
import type { Deployment, EnvVar, LogLine, Node, Shape, StatusHistoryItem } from './schema/types.js';

/** What the API shows instead of an env value: values are secrets and never leave the store. */
export const MASKED = '***';

export function unixSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

function intOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

/** The original Kraken API's shape of a deployment (statusHistory is resolved on demand). */
export function deploymentView(record: DeploymentRecord): Shape<Deployment> {
  return {
    id: record.id,
    srcUrl: record.srcUrl,
    gitBranch: record.branch,
    version: record.version,
    commit: record.commit,
    port: record.port === null ? null : String(record.port),
    status: record.status,
    statusMessage: record.statusMessage,
    resultsUrl: `/log/${encodeURIComponent(record.id)}`,
    deploymentUrl: record.url,
    node: record.nodeId,
    size: intOrNull(record.imageSizeMb),
    memMb: intOrNull(record.memMb),
    maxMemMb: intOrNull(record.maxMemMb),
    cpuUsage: record.cpuPercent,
    placementReason: record.placementReason,
    env: maskedEnv(record.env),
    watch: record.watch,
  };
}

export function maskedEnv(env: Record<string, string>): Shape<EnvVar>[] {
  return Object.keys(env)
    .sort()
    .map((name) => ({ name, value: MASKED }));
}

export function historyView(entry: StatusHistoryEntry): Shape<StatusHistoryItem> {
  return { status: entry.status, time: unixSeconds(entry.at), message: entry.message, node: entry.nodeId };
}

export function nodeView(record: NodeRecord): Shape<Node> {
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
    currentRamPercent: info.ram.totalMb > 0 ? (info.ram.usedMb / info.ram.totalMb) * 100 : 0,
    updateTime: unixSeconds(record.updateTime),
    deployments: info.deployments,
    state: record.state,
    arch: info.arch,
    runtimes: info.runtimes,
    hostname: info.hostname,
  };
}

export function logLineView(line: StoredLogLine): Shape<LogLine> {
  return { seq: line.seq, stream: line.stream, text: line.text, time: unixSeconds(line.at) };
}
