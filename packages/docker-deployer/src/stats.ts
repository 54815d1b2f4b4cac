import type Docker from 'dockerode';
import { delay } from '@kraken/runtime';
import type { StatsSample } from '@kraken/runtime';
import { Recent } from './recent.js';

/** The subset of the engine's stats JSON the deployer reads. */
export interface EngineStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number | undefined> };
}

const MB = 1024 * 1024;

/**
 * CPU percent between two samples: the container's share of all host CPU time in the interval,
 * scaled by the number of CPUs. A one-shot sample has no `precpu_stats`, so the deployer takes two
 * samples itself instead of relying on it.
 */
export function cpuPercent(before: EngineStats, after: EngineStats): number {
  const usage0 = before.cpu_stats?.cpu_usage?.total_usage;
  const usage1 = after.cpu_stats?.cpu_usage?.total_usage;
  const system0 = before.cpu_stats?.system_cpu_usage;
  const system1 = after.cpu_stats?.system_cpu_usage;
  // a missing reading would make the delta the container's whole lifetime, not the interval
  if (usage0 === undefined || usage1 === undefined || system0 === undefined || system1 === undefined) return 0;
  const cpuDelta = usage1 - usage0;
  const systemDelta = system1 - system0;
  if (cpuDelta <= 0 || systemDelta <= 0) return 0;
  const cpus = after.cpu_stats?.online_cpus ?? after.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 1;
  return round2((cpuDelta / systemDelta) * cpus * 100);
}

/** Usage minus page cache: `cache` on cgroup v1, `inactive_file` on cgroup v2 (as the docker CLI does). */
export function memoryMb(stats: EngineStats): { memMb: number; maxMemMb: number } {
  const usage = stats.memory_stats?.usage ?? 0;
  const detail = stats.memory_stats?.stats ?? {};
  const cache = detail['total_inactive_file'] ?? detail['inactive_file'] ?? detail['cache'] ?? 0;
  const used = Math.max(0, usage - (cache < usage ? cache : 0));
  return { memMb: round2(used / MB), maxMemMb: round2((stats.memory_stats?.limit ?? 0) / MB) };
}

export function bytesToMb(bytes: number): number {
  return round2(bytes / MB);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** cpu% is measured since the container's previous sample while that is at most this old (the worker asks every few seconds to a minute). */
const CPU_WINDOW_MAX_MS = 120_000;
/** An image's size is asked of the engine again after this long (it does not change; the image may be gone). */
const IMAGE_SIZE_MAX_AGE_MS = 600_000;

/**
 * Stats samples of app containers. The engine's one-shot sample has no previous CPU reading, so
 * cpu% is computed against this container's previous sample when that is recent (the worker asks
 * every stats interval: one engine read per call), else from two taken `statsIntervalMs` apart.
 * The image's size is remembered for a while. Engine errors are passed on as they come.
 */
export class ContainerUsage {
  /** Each container's last stats sample, to measure cpu% from at the next call. */
  private readonly previous = new Recent<EngineStats>(CPU_WINDOW_MAX_MS);
  private readonly imageSizes = new Recent<number>(IMAGE_SIZE_MAX_AGE_MS);

  constructor(
    private readonly docker: Docker,
    private readonly statsIntervalMs: number,
  ) {}

  async sample(containerId: string, image: string): Promise<StatsSample> {
    const container = this.docker.getContainer(containerId);
    const read = async (): Promise<EngineStats> => await container.stats({ stream: false, 'one-shot': true });
    let before = this.previous.get(containerId);
    if (before === undefined) {
      before = await read();
      await delay(this.statsIntervalMs);
    }
    const after = await read();
    this.previous.set(containerId, after);
    let imageSizeMb = this.imageSizes.get(image);
    if (imageSizeMb === undefined) {
      imageSizeMb = bytesToMb((await this.docker.getImage(image).inspect()).Size);
      this.imageSizes.set(image, imageSizeMb);
    }
    return { cpuPercent: cpuPercent(before, after), ...memoryMb(after), imageSizeMb };
  }

  /** A container stopped or removed: its next sample starts afresh. */
  forget(containerId: string): void {
    this.previous.delete(containerId);
  }
}
