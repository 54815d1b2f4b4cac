import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Memory and CPU limits for one app; an absent one is no limit. */
export interface AppLimits {
  memoryMb?: number | undefined;
  cpus?: number | undefined;
}

/** One deployment's control group, in each hierarchy that carries a limit. */
export interface AppCgroup {
  /**
   * The files the app's first process writes its own pid into before it runs its program, so
   * that nothing it forks escapes the limits (a pid moved from outside could fork first).
   */
  readonly procsFiles: readonly string[];
  /** How many of its processes the kernel's OOM killer has ended so far. */
  oomKills(): Promise<number>;
}

/** The kernel's control groups as this runtime uses them: one group per limited deployment. */
export interface Cgroups {
  readonly version: 1 | 2;
  /** Creates the deployment's group (and the agent's parent group on first use), or sets new limits on the one it has. */
  ensure(deploymentId: string, limits: AppLimits): Promise<AppCgroup>;
  /** Removes the deployment's group once nothing runs in it; nothing when it has none. */
  remove(deploymentId: string): Promise<void>;
  /** Removes the agent's parent group when no deployment's group is left in it (apps that run on keep theirs). */
  close(): Promise<void>;
}

export type CgroupsProbe = { available: true; cgroups: Cgroups } | { available: false; reason: string };

/** CFS period: a quota of `cpus` × this per period is `cpus` CPUs. */
const CPU_PERIOD_US = 100_000;
const MB = 1024 * 1024;
/** A group's last process may still be exiting when it is removed (EBUSY): tries this often, 100 ms apart. */
const REMOVE_ATTEMPTS = 20;

/**
 * Finds the control groups this machine lets the agent create, v2 (one unified hierarchy with the
 * memory and cpu controllers) or v1 (separate memory and cpu hierarchies), and checks that it may
 * make its own parent group in them (made, then removed again: it is made on first use, so an
 * agent without limited apps leaves nothing behind). `scopeKey` tells apart agents that share a
 * machine (their data dirs): node ids alone may repeat across clusters. Unavailable says why, for
 * the node's report.
 */
export async function probeCgroups(root: string, nodeId: string, scopeKey: string): Promise<CgroupsProbe> {
  const scope = ['kraken', `${safeName(nodeId)}-${createHash('sha256').update(scopeKey).digest('hex').slice(0, 8)}`];
  let cgroups: CgroupsV1 | CgroupsV2;
  try {
    if (await exists(path.join(root, 'cgroup.controllers'))) {
      const controllers = (await readFile(path.join(root, 'cgroup.controllers'), 'utf8')).split(/\s+/);
      const missing = ['memory', 'cpu'].filter((name) => !controllers.includes(name));
      if (missing.length > 0) return { available: false, reason: `the cgroup v2 hierarchy at ${root} has no ${missing.join(' or ')} controller` };
      cgroups = new CgroupsV2(root, scope);
    } else if ((await exists(path.join(root, 'memory', 'memory.limit_in_bytes'))) && (await exists(path.join(root, 'cpu', 'cpu.cfs_quota_us')))) {
      cgroups = new CgroupsV1(path.join(root, 'memory', ...scope), path.join(root, 'cpu', ...scope));
    } else {
      return { available: false, reason: `no memory and cpu control groups under ${root}` };
    }
    await cgroups.makeParent();
    await cgroups.close();
  } catch (error) {
    return { available: false, reason: `cannot create control groups under ${root}: ${(error as Error).message}` };
  }
  return { available: true, cgroups };
}

class CgroupsV2 implements Cgroups {
  readonly version = 2;
  private readonly parent: string;

  constructor(
    private readonly root: string,
    private readonly scope: readonly string[],
  ) {
    this.parent = path.join(root, ...scope);
  }

  /** A group passes controllers to its children only when told to, at every level down to the app's. */
  async makeParent(): Promise<void> {
    let dir = this.root;
    for (const part of this.scope) {
      await writeFile(path.join(dir, 'cgroup.subtree_control'), '+memory +cpu');
      dir = path.join(dir, part);
      await mkdir(dir, { recursive: true });
    }
    await writeFile(path.join(dir, 'cgroup.subtree_control'), '+memory +cpu');
  }

  async ensure(deploymentId: string, limits: AppLimits): Promise<AppCgroup> {
    await this.makeParent();
    const dir = path.join(this.parent, safeName(deploymentId));
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'memory.max'), limits.memoryMb === undefined ? 'max' : String(limits.memoryMb * MB));
    // no swapping past the limit: an app at its limit is ended, not slowed down to a crawl
    await writeIfPresent(path.join(dir, 'memory.swap.max'), limits.memoryMb === undefined ? 'max' : '0');
    await writeFile(path.join(dir, 'cpu.max'), `${limits.cpus === undefined ? 'max' : String(Math.round(limits.cpus * CPU_PERIOD_US))} ${String(CPU_PERIOD_US)}`);
    return { procsFiles: [path.join(dir, 'cgroup.procs')], oomKills: () => countOf(path.join(dir, 'memory.events'), 'oom_kill') };
  }

  async remove(deploymentId: string): Promise<void> {
    await removeGroup(path.join(this.parent, safeName(deploymentId)));
  }

  async close(): Promise<void> {
    await removeIfUnused(this.parent);
  }
}

class CgroupsV1 implements Cgroups {
  readonly version = 1;

  constructor(
    private readonly memoryParent: string,
    private readonly cpuParent: string,
  ) {}

  async makeParent(): Promise<void> {
    await mkdir(this.memoryParent, { recursive: true });
    await mkdir(this.cpuParent, { recursive: true });
  }

  async ensure(deploymentId: string, limits: AppLimits): Promise<AppCgroup> {
    const memory = path.join(this.memoryParent, safeName(deploymentId));
    const cpu = path.join(this.cpuParent, safeName(deploymentId));
    await mkdir(memory, { recursive: true });
    await mkdir(cpu, { recursive: true });
    await setMemoryLimitV1(memory, limits.memoryMb === undefined ? -1 : limits.memoryMb * MB);
    await writeFile(path.join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
    await writeFile(path.join(cpu, 'cpu.cfs_quota_us'), limits.cpus === undefined ? '-1' : String(Math.round(limits.cpus * CPU_PERIOD_US)));
    return {
      procsFiles: [path.join(memory, 'cgroup.procs'), path.join(cpu, 'cgroup.procs')],
      oomKills: () => countOf(path.join(memory, 'memory.oom_control'), 'oom_kill'),
    };
  }

  async remove(deploymentId: string): Promise<void> {
    await removeGroup(path.join(this.memoryParent, safeName(deploymentId)));
    await removeGroup(path.join(this.cpuParent, safeName(deploymentId)));
  }

  async close(): Promise<void> {
    await removeIfUnused(this.memoryParent);
    await removeIfUnused(this.cpuParent);
  }
}

/**
 * memory + swap may never be below memory alone, so the order matters: lowering sets memory
 * first, raising sets memory + swap first. Both equal: no swapping past the limit.
 */
async function setMemoryLimitV1(dir: string, bytes: number): Promise<void> {
  const memory = path.join(dir, 'memory.limit_in_bytes');
  const withSwap = path.join(dir, 'memory.memsw.limit_in_bytes');
  const current = Number.parseInt(await readFile(memory, 'utf8'), 10);
  const raising = bytes === -1 || bytes > current;
  if (raising) await writeIfPresent(withSwap, String(bytes));
  await writeFile(memory, String(bytes));
  if (!raising) await writeIfPresent(withSwap, String(bytes));
}

/** A counter line (`oom_kill 2`) of a flat keyed file such as memory.events; 0 when absent. */
async function countOf(file: string, key: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = text.split('\n').find((entry) => entry.startsWith(`${key} `));
  return line === undefined ? 0 : Number.parseInt(line.slice(key.length + 1), 10) || 0;
}

async function removeGroup(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= REMOVE_ATTEMPTS) throw error;
      await sleep(100);
    }
  }
}

/** A group with groups of apps left in it (they run on, for the next agent to adopt) stays. */
async function removeIfUnused(dir: string): Promise<void> {
  await rmdir(dir).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw error;
  });
}

async function writeIfPresent(file: string, value: string): Promise<void> {
  // swap accounting is off on many kernels (no memsw / swap files): then there is no swap to limit
  if (await exists(file)) await writeFile(file, value);
}

async function exists(file: string): Promise<boolean> {
  return await access(file).then(
    () => true,
    () => false,
  );
}

/** A group name from an id: control group names are path segments. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * A shell script that moves itself into each group, then becomes the app: `sh -c <script>
 * kraken-limits <procs files...> <program> <args...>`.
 */
export function joinCgroupScript(procsFiles: readonly string[]): string {
  const moves = procsFiles.map((_, index) => `echo $$ > "$${String(index + 1)}"`);
  return `${moves.join(' && ')} && shift ${String(procsFiles.length)} && exec "$@"`;
}
