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
