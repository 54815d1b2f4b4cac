import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { joinCgroupScript, probeCgroups } from './cgroups.js';

// A directory shaped like a cgroup file system: the kernel would make a new group's files itself,
// so a test makes the ones the code reads before it asks for the group.
const UNLIMITED_V1 = '9223372036854771712';

/** The agent's parent group's name: the node id as a path segment and a key of the data dir. */
function scopeOf(nodeSegment: string, dataDir: string): string {
  return `${nodeSegment}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
}

async function files(dir: string, entries: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(entries)) await writeFile(path.join(dir, name), content);
}

describe('probeCgroups', () => {
  let root: TempDir;

  beforeEach(async () => {
    root = await tempDir('kraken-cgroups-');
  });

  afterEach(async () => {
    await root.remove();
  });

  it('says why when the machine has no memory and cpu hierarchies', async () => {
    const probe = await probeCgroups(root.path, 'node-1', '/data');
    expect(probe).toEqual({ available: false, reason: `no memory and cpu control groups under ${root.path}` });
  });

  it('says which controller a v2 hierarchy lacks', async () => {
    await files(root.path, { 'cgroup.controllers': 'cpuset io pids', 'cgroup.subtree_control': '' });
    const probe = await probeCgroups(root.path, 'node-1', '/data');
    expect(probe).toEqual({ available: false, reason: `the cgroup v2 hierarchy at ${root.path} has no memory or cpu controller` });
  });

  it('v1: sets memory (and memory + swap, equal) and the CPU quota, and counts OOM kills', async () => {
    await files(path.join(root.path, 'memory'), { 'memory.limit_in_bytes': UNLIMITED_V1 });
    await files(path.join(root.path, 'cpu'), { 'cpu.cfs_quota_us': '-1' });
    const probe = await probeCgroups(root.path, 'node/1', '/data');
    if (!probe.available) throw new Error(probe.reason);
    expect(probe.cgroups.version).toBe(1);

    // the agent's parent group is made on first use: the probe leaves nothing behind
    expect(await readdir(path.join(root.path, 'memory', 'kraken'))).toEqual([]);
    // the scope: the node id made a path segment, and a key telling apart agents that share the machine
    const scope = scopeOf('node_1', '/data');
    const memory = path.join(root.path, 'memory', 'kraken', scope, 'app-1');
    const cpu = path.join(root.path, 'cpu', 'kraken', scope, 'app-1');
    await files(memory, { 'memory.limit_in_bytes': UNLIMITED_V1, 'memory.memsw.limit_in_bytes': UNLIMITED_V1, 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n' });
    await files(cpu, {});

    const group = await probe.cgroups.ensure('app-1', { memoryMb: 64, cpus: 0.5 });
    expect(await readFile(path.join(memory, 'memory.limit_in_bytes'), 'utf8')).toBe(String(64 * 1024 * 1024));
    expect(await readFile(path.join(memory, 'memory.memsw.limit_in_bytes'), 'utf8')).toBe(String(64 * 1024 * 1024));
    expect(await readFile(path.join(cpu, 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    expect(await readFile(path.join(cpu, 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(group.procsFiles).toEqual([path.join(memory, 'cgroup.procs'), path.join(cpu, 'cgroup.procs')]);
    expect(await group.oomKills()).toBe(2);

    // a redeploy without limits lifts them
    await probe.cgroups.ensure('app-1', {});
    expect(await readFile(path.join(memory, 'memory.limit_in_bytes'), 'utf8')).toBe('-1');
    expect(await readFile(path.join(cpu, 'cpu.cfs_quota_us'), 'utf8')).toBe('-1');
  });

  it('v2: turns the controllers on down to the agent, and sets memory.max, no swap, cpu.max', async () => {
    await files(root.path, { 'cgroup.controllers': 'cpuset cpu io memory pids', 'cgroup.subtree_control': '' });
    const probe = await probeCgroups(root.path, 'node-1', '/data');
    if (!probe.available) throw new Error(probe.reason);
    expect(probe.cgroups.version).toBe(2);
    expect(await readFile(path.join(root.path, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu');
    expect(await readFile(path.join(root.path, 'kraken', 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu');

    const scope = scopeOf('node-1', '/data');
    const group = path.join(root.path, 'kraken', scope, 'app-2');
    await files(group, { 'memory.swap.max': 'max', 'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n' });
    const made = await probe.cgroups.ensure('app-2', { memoryMb: 128 });
    expect(await readFile(path.join(group, 'memory.max'), 'utf8')).toBe(String(128 * 1024 * 1024));
    expect(await readFile(path.join(group, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(await readFile(path.join(group, 'cpu.max'), 'utf8')).toBe('max 100000');
    expect(made.procsFiles).toEqual([path.join(group, 'cgroup.procs')]);
    expect(await made.oomKills()).toBe(1);
  });

  it("close() removes the agent's parent group once no app's group is left in it", async () => {
    await files(path.join(root.path, 'memory'), { 'memory.limit_in_bytes': UNLIMITED_V1 });
    await files(path.join(root.path, 'cpu'), { 'cpu.cfs_quota_us': '-1' });
    const probe = await probeCgroups(root.path, 'node-1', '/data');
    if (!probe.available) throw new Error(probe.reason);
    const scope = scopeOf('node-1', '/data');
    await mkdir(path.join(root.path, 'memory', 'kraken', scope, 'app-3'), { recursive: true });
    await mkdir(path.join(root.path, 'cpu', 'kraken', scope, 'app-3'), { recursive: true });

    // an app that runs on keeps its group, and so the parent
    await probe.cgroups.close();
    expect(await readdir(path.join(root.path, 'memory', 'kraken'))).toEqual([scope]);
    await probe.cgroups.remove('app-3');
    await probe.cgroups.close();
    expect(await readdir(path.join(root.path, 'memory', 'kraken'))).toEqual([]);
    expect(await readdir(path.join(root.path, 'cpu', 'kraken'))).toEqual([]);
  });

  it('remove() of a group that is gone already is nothing', async () => {
    await files(path.join(root.path, 'memory'), { 'memory.limit_in_bytes': UNLIMITED_V1 });
    await files(path.join(root.path, 'cpu'), { 'cpu.cfs_quota_us': '-1' });
    const probe = await probeCgroups(root.path, 'node-1', '/data');
    if (!probe.available) throw new Error(probe.reason);
    await expect(probe.cgroups.remove('never-made')).resolves.toBeUndefined();
  });
});

describe('joinCgroupScript', () => {
  it('moves the shell into every group, then becomes the program with its arguments', async () => {
    const dir = await tempDir('kraken-cgroup-join-');
    try {
      const procs = [path.join(dir.path, 'a.procs'), path.join(dir.path, 'b.procs')];
      const out = execFileSync('/bin/sh', ['-c', joinCgroupScript(procs), 'kraken-limits', ...procs, '/bin/sh', '-c', 'echo "$$ $1"', 'sh', 'x y'], { encoding: 'utf8' });
      const [pid, argument] = [out.split(' ')[0], out.trim().split(' ').slice(1).join(' ')];
      // exec: the program runs as the very process that joined the groups
      expect(await readFile(procs[0] ?? '', 'utf8')).toBe(`${pid ?? ''}\n`);
      expect(await readFile(procs[1] ?? '', 'utf8')).toBe(`${pid ?? ''}\n`);
      expect(argument).toBe('x y');
    } finally {
      await dir.remove();
    }
  });
});
