import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';
import type { NetnsDockerd } from './netns-dockerd.js';
import { startNetnsDockerd } from './netns-dockerd.js';
import type { NetnsLab } from './netns-lab.js';
import { createNetnsLab } from './netns-lab.js';

const run = promisify(execFile);
const IMAGE = 'kraken-test/busybox:1';

/** The docker CLI against one engine. */
async function docker(engine: NetnsDockerd, ...args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['-H', `unix://${engine.socketPath}`, ...args], { timeout: 60_000 });
  return stdout.trim();
}

/** A one-binary image (the static busybox the base images use too), imported: no registry needed. */
async function importBusybox(engine: NetnsDockerd): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'kraken-busybox-'));
  try {
    await mkdir(path.join(root, 'bin'));
    await copyFile('/bin/busybox', path.join(root, 'bin', 'busybox'));
    await symlink('busybox', path.join(root, 'bin', 'sh'));
    await run('sh', ['-c', `tar -C "$0" -c . | docker -H "unix://$1" import - "$2"`, root, engine.socketPath, IMAGE], {
      timeout: 60_000,
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** What the engine could leave on the machine: processes naming its directory, mounts below it, the directory. */
function leftovers(engine: NetnsDockerd, containerPids: readonly number[]): string[] {
  const dir = path.dirname(engine.socketPath);
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) found.push(`process ${entry}`);
    } catch {
      // gone meanwhile
    }
  }
  for (const pid of containerPids) {
    try {
      // a zombie (killed, parent gone, not reaped yet here) has no command line any more
      if (readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8') !== '') found.push(`container process ${String(pid)}`);
    } catch {
      // gone
    }
  }
  found.push(
    ...readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((line) => line.includes(dir))
      .map((line) => `mount ${line}`),
  );
  if (existsSync(dir)) found.push(`directory ${dir}`);
  return found;
}

async function containerPid(engine: NetnsDockerd, id: string): Promise<number> {
  return Number(await docker(engine, 'inspect', '--format', '{{.State.Pid}}', id));
}

describe('startNetnsDockerd', () => {
  let lab: NetnsLab;

  beforeAll(async () => {
    lab = await createNetnsLab({ name: 'dockerd-test', hosts: 2 });
  });

  afterAll(async () => {
    await lab.destroy();
  });

  it("runs an engine of the host's own: its name, its network; destroy leaves no process, mount or directory", async () => {
    const engine = await startNetnsDockerd(lab, 'h1');
    let pids: number[] = [];
    try {
      expect(await docker(engine, 'info', '--format', '{{.Name}}')).toBe('h1');
      await importBusybox(engine);
      // a container on the engine's host network serves at the lab host's address
      const server = await docker(
        engine,
        'run',
        '--detach',
        '--network',
        'host',
        IMAGE,
        '/bin/sh',
        '-c',
        'echo hello from h1 > /index.html && exec /bin/busybox httpd -f -p 8080 -h /',
      );
      const url = `http://${lab.host('h1').address}:8080/`;
      const get = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t))`;
      const { stdout } = await eventually(
        () => lab.exec('h2', [process.execPath, '-e', get]),
        10_000,
        'the container answering from h2',
      );
      expect(stdout).toBe('hello from h1\n');
      const sleeper = await docker(engine, 'run', '--detach', IMAGE, '/bin/busybox', 'sleep', '600');
      pids = await Promise.all([server, sleeper].map((id) => containerPid(engine, id)));
      expect(leftovers(engine, pids).length).toBeGreaterThan(0);
    } finally {
      await engine.destroy();
    }
    expect(leftovers(engine, pids)).toEqual([]);
    await engine.destroy();
  });

  it('cleans up after lab.killHost, which leaves the containers that have a network namespace of their own', async () => {
    const engine = await startNetnsDockerd(lab, 'h2');
    const sleeper = await (async () => {
      try {
        await importBusybox(engine);
        return await containerPid(engine, await docker(engine, 'run', '--detach', IMAGE, '/bin/busybox', 'sleep', '600'));
      } catch (error) {
        await engine.destroy();
        throw error;
      }
    })();
    await lab.killHost('h2');
    expect(await engine.process.exited).toBeNull();
    expect(readFileSync(`/proc/${String(sleeper)}/cmdline`, 'utf8')).toContain('sleep');

    await engine.destroy();

    expect(leftovers(engine, [sleeper])).toEqual([]);
  });

  it('starts again on its data root and socket after stop() or kill(): its images are there and its restart policy brings containers back', async () => {
    const engine = await startNetnsDockerd(lab, 'h1');
    try {
      await importBusybox(engine);
      const kept = await docker(engine, 'run', '--detach', '--restart', 'unless-stopped', IMAGE, '/bin/busybox', 'sleep', '600');
      const first = engine.process;

      await engine.stop();
      expect(first.child.signalCode ?? first.child.exitCode).not.toBeNull();
      await expect(engine.start()).resolves.toBeUndefined();
      expect(engine.process).not.toBe(first);
      await eventually(async () => (await docker(engine, 'inspect', '--format', '{{.State.Running}}', kept)) === 'true', 30_000, 'the container running again');

      const before = await containerPid(engine, kept);
      await engine.kill();
      // a crash: the container's process dies with the engine
      expect(leftovers(engine, [before]).filter((found) => found.startsWith('container process'))).toEqual([]);
      await engine.start();
      await eventually(async () => (await docker(engine, 'inspect', '--format', '{{.State.Running}}', kept)) === 'true', 30_000, 'the container running again');
      expect(await docker(engine, 'images', '--format', '{{.Repository}}:{{.Tag}}')).toContain(IMAGE);
      await expect(engine.start()).rejects.toThrow(/still runs .*stop\(\) or kill\(\) it first/);
    } finally {
      await engine.destroy();
    }
    expect(leftovers(engine, [])).toEqual([]);
    await expect(engine.start()).rejects.toThrow('start() after destroy()');
  });
});
