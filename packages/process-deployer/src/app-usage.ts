import type { StatsSample } from '@kraken/runtime';
import { buildOf } from './kept-builds.js';
import { deploymentPaths } from './layout.js';
import type { CompiledProcessOptions } from './options.js';
import type { Supervisor } from './supervisor.js';
import { GroupSampler, bytesToMb, folderBytes, round2 } from './usage.js';

/** Walking a node_modules is not free: the size is measured at most this often. */
const SIZE_CACHE_MS = 60_000;
/** `maxMemMb` of a runtime that enforces no memory limit (the stats contract's "no limit"). */
const NO_MEMORY_LIMIT = 0;
/** CPU% is measured since the last /proc pass while it is at most this old (the worker asks every few seconds to a minute). */
const CPU_WINDOW_MAX_MS = 120_000;

/**
 * The stats of supervised apps: one sample from /proc for a deployment's process group, cpu%
 * since the previous sample (or over `statsInterval` when there was none lately), resident memory
 * now, and the size of its folder (checkout and dependencies) as the image size. Every app asked
 * for at once shares one pass over /proc. A deployment waiting to restart reads 0 CPU and memory.
 * `maxMemMb` is its memory limit, or 0 ("no limit" in the contract) for an app without one: the
 * peak use it once reported there made every app look full.
 */
export class AppUsage {
  private readonly sampler: GroupSampler;
  private readonly sizes = new Map<string, { bytes: number; atMs: number }>();

  constructor(private readonly options: Pick<CompiledProcessOptions, 'statsIntervalMs' | 'clock' | 'dataDir'>) {
    this.sampler = new GroupSampler(options.statsIntervalMs, CPU_WINDOW_MAX_MS);
  }

  async sample(supervisor: Supervisor): Promise<StatsSample> {
    const { state } = supervisor;
    const usage = supervisor.running ? await this.sampler.usage(state.pid) : { cpuPercent: 0, rssKb: 0 };
    return {
      cpuPercent: usage.cpuPercent,
      memMb: round2(usage.rssKb / 1024),
      maxMemMb: state.limits?.memoryMb ?? NO_MEMORY_LIMIT,
      imageSizeMb: bytesToMb(await this.folderSize(state.deploymentId, state.buildDir)),
    };
  }

  /** A deployment no longer here (or rebuilt): its folder's size is measured again when asked. */
  forget(deploymentId: string): void {
    this.sizes.delete(deploymentId);
  }

  private async folderSize(deploymentId: string, buildDir: string | undefined): Promise<number> {
    const cached = this.sizes.get(deploymentId);
    const now = this.options.clock.now();
    if (cached !== undefined && now - cached.atMs < SIZE_CACHE_MS) return cached.bytes;
    const build = buildOf(deploymentPaths(this.options.dataDir, deploymentId), { buildDir });
    const bytes = (await folderBytes(build.app)) + (await folderBytes(build.pythonDeps));
    this.sizes.set(deploymentId, { bytes, atMs: now });
    return bytes;
  }
}
