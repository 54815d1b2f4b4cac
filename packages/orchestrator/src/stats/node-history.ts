import type { NodeInfoBody } from '@kraken/messages';
import { SampleHistory } from './sample-history.js';

/** A node's load at one heartbeat, as the orchestrator kept it for charts. */
export interface NodeSample {
  /** When the orchestrator received the heartbeat (its own clock). */
  at: string;
  /** Busy share of all cores, 0..100; null from agents that do not report it. */
  cpuPercent: number | null;
  memUsedMb: number;
  memTotalMb: number;
  /** The filesystem of the agent's data dir; null from agents that do not report it. */
  diskUsedMb: number | null;
  diskTotalMb: number | null;
}

/** 360 windows of 10 s: the last hour. */
export const DEFAULT_NODE_SAMPLES = 360;
export const DEFAULT_NODE_SAMPLE_INTERVAL_MS = 10_000;

export function nodeSampleOf(info: NodeInfoBody, at: string): NodeSample {
  return {
    at,
    cpuPercent: info.cpuBusyPercent ?? null,
    memUsedMb: info.ram.usedMb,
    memTotalMb: info.ram.totalMb,
    diskUsedMb: info.disk?.usedMb ?? null,
    diskTotalMb: info.disk?.totalMb ?? null,
  };
}

/**
 * Each node's recent load, one sample per interval (heartbeats come every 2 s: keeping all would
 * cost five times the memory for a chart that cannot show the difference). The newest sample is
 * always the latest heartbeat's.
 */
export class NodeHistory extends SampleHistory<NodeSample> {
  constructor(samplesPerNode: number = DEFAULT_NODE_SAMPLES, everyMs: number = DEFAULT_NODE_SAMPLE_INTERVAL_MS) {
    super({ capacity: samplesPerNode, optionName: 'nodeSamples', everyMs });
  }

  recordHeartbeat(info: NodeInfoBody, at: string): void {
    this.record(info.nodeId, nodeSampleOf(info, at));
  }
}
