import { SampleHistory } from './sample-history.js';

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
 * The recent CPU and memory samples of each deployment (every report kept: workers already pace
 * them). A deployment's samples are forgotten when it is destroyed.
 */
export class StatsHistory extends SampleHistory<StatsSample> {
  constructor(samplesPerDeployment: number = DEFAULT_STATS_SAMPLES) {
    super({ capacity: samplesPerDeployment, optionName: 'statsSamples' });
  }
}
