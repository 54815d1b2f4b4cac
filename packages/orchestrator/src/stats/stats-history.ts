import { ErrorCode, KrakenError } from '@kraken/common';

/** One deploy.stats report as the orchestrator received it. */
export interface StatsSample {
  /** When the orchestrator received it (its own clock, so samples of one deployment are in order across nodes). */
  at: string;
  /** Of one core: 250 means two and a half cores busy. */
  cpuPercent: number;
  memMb: number;
  maxMemMb: number;
}

/** 360 samples at the workers' default 10 s interval: the last hour. */
export const DEFAULT_STATS_SAMPLES = 360;

/**
 * The recent CPU and memory samples of each deployment, in memory only: the store keeps just the
 * latest values, and a chart needs a short past. Bounded per deployment (oldest dropped first);
 * a deployment's samples are forgotten when it is destroyed, so the whole stays bounded by the
 * deployments that exist. A new leader starts with none.
 */
export class StatsHistory {
  private readonly byDeployment = new Map<string, readonly StatsSample[]>();

  constructor(readonly samplesPerDeployment: number = DEFAULT_STATS_SAMPLES) {
    if (!Number.isInteger(samplesPerDeployment) || samplesPerDeployment < 1) {
      throw new KrakenError(
        ErrorCode.InvalidConfig,
        `orchestrator option statsSamples must be a positive integer, got ${String(samplesPerDeployment)}`,
      );
    }
  }

  record(deploymentId: string, sample: StatsSample): void {
    const current = this.byDeployment.get(deploymentId) ?? [];
    const kept = current.length >= this.samplesPerDeployment ? current.slice(current.length - this.samplesPerDeployment + 1) : current;
    // frozen and replaced, never changed in place: callers (and the API's fast path) may keep them
    this.byDeployment.set(deploymentId, Object.freeze([...kept, Object.freeze({ ...sample })]));
  }

  /** Oldest first; empty for a deployment with none (or an unknown one). */
  samples(deploymentId: string): readonly StatsSample[] {
    return this.byDeployment.get(deploymentId) ?? [];
  }

  forget(deploymentId: string): void {
    this.byDeployment.delete(deploymentId);
  }
}
