// Pure helpers for the Nodes page's charts: no React, so unit tests cover them directly.
import type { NodeHistoryQuery } from './api/generated.js';

export type NodeSample = NodeHistoryQuery['getNodes'][number]['history'][number];

interface Point {
  time: number;
  value: number;
}

/** What the three charts of one node draw: points over time, and the capacity each axis reaches. */
export interface NodeSeries {
  cpu: Point[];
  memory: Point[];
  /** The latest total RAM: the memory axis's top, so a full line means full memory. */
  memoryTotalMb: number | undefined;
  disk: Point[];
  diskTotalMb: number | undefined;
}

/**
 * Splits a node's samples into one line per chart. A sample without CPU or disk (an agent older
 * than those readings, or its first heartbeat) leaves a gap in that chart only, rather than a zero.
 */
export function nodeSeries(samples: readonly NodeSample[]): NodeSeries {
  const cpu: Point[] = [];
  const memory: Point[] = [];
  const disk: Point[] = [];
  let memoryTotalMb: number | undefined;
  let diskTotalMb: number | undefined;
  for (const sample of samples) {
    const time = sample.at;
    if (sample.cpuPercent !== null) cpu.push({ time, value: sample.cpuPercent });
    memory.push({ time, value: sample.memUsedMb });
    memoryTotalMb = sample.memTotalMb;
    if (sample.diskUsedMb !== null && sample.diskTotalMb !== null) {
      disk.push({ time, value: sample.diskUsedMb });
      diskTotalMb = sample.diskTotalMb;
    }
  }
  return { cpu, memory, memoryTotalMb, disk, diskTotalMb };
}
