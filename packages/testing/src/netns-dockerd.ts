import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, KrakenError } from '@kraken/common';
import { onExitCleanup } from './exit-cleanup.js';
import { runCommandSync } from './netns-exec.js';
import type { NetnsHost, NetnsHostRef, NetnsLab } from './netns-lab.js';
import type { WatchedProcess } from './watch-process.js';
import { watchProcess } from './watch-process.js';

export interface NetnsDockerdOptions {
  /** Give up (and clean up) when the engine does not answer `/_ping` by then. @default 60_000 */
  readyTimeoutMs?: number;
  /** More `dockerd` flags, e.g. `['--log-level', 'warn']`. */
  args?: readonly string[];
}

/** A Docker engine of its own in one lab host; see startNetnsDockerd. */
export interface NetnsDockerd extends AsyncDisposable {
  readonly host: NetnsHost;
  /** Its API: `docker -H unix://<socketPath>`, `new Docker({ socketPath })`. */
  readonly socketPath: string;
  /** dockerd itself (the process lab.killHost kills with the rest of the host): the one running now, a new one after start(). */
  readonly process: WatchedProcess;
  /**
   * SIGTERM to dockerd, as `systemctl stop docker` does, and waits for it to exit: it stops its
   * containers on the way out. Its data root and socket path stay for start().
   */
  stop(): Promise<void>;
  /**
   * SIGKILL to the engine, its containerd and shims and its containers' processes, as when its
   * machine crashes; waits until they are gone. Its data root and socket path stay for start().
   */
  kill(): Promise<void>;
  /**
   * Starts dockerd again on the same data root, exec root and socket after stop() or kill() (or
   * lab.killHost): its images and containers are there again, and it restarts those whose restart
   * policy says so. Resolves once it answers `/_ping`; rejects while it still runs.
   */
  start(): Promise<void>;
  /**
   * SIGKILL to the engine, its containerd and shims and its containers' processes; then unmounts
   * what it mounted and removes its directory and cgroups. Idempotent; safe after lab.killHost.
   */
  destroy(): Promise<void>;
}

/**
 * Starts `dockerd` inside a lab host: the engine's network is the host's (its address, its own
 * iptables), its host name is the host's name (a UTS namespace of its own), and everything else is
 * its own: data root, exec root and socket in a temp dir, its own containerd, containers under a
 * cgroup parent of its own. So several engines run side by side, beside the machine's, and one can
 * form a Docker Swarm with engines on other hosts (they advertise their lab address).
 *
 * Needs root and `dockerd` installed. Not `ip netns exec`, which gives dockerd a mount namespace
 * of its own (and a remounted /sys) where the mounts it makes for its containers go astray:
 * `nsenter --net` enters the host's network namespace only.
 */
export async function startNetnsDockerd(
  lab: NetnsLab,
  ref: NetnsHostRef,
  options: NetnsDockerdOptions = {},
): Promise<NetnsDockerd> {
  const host = lab.host(ref);
  // short: containerd's sockets live below it, and a unix socket path has 107 bytes at most
  const dir = await mkdtemp(path.join(tmpdir(), 'kraken-dockerd-'));
  const cgroupParent = `/${path.basename(dir)}`;
  const socketPath = path.join(dir, 'docker.sock');
  const forget = onExitCleanup(() => {
    removeEngine(dir, cgroupParent);
  });
  const dockerd = [
    'dockerd',
    '--config-file',
    path.join(dir, 'daemon.json'),
    '--data-root',
    path.join(dir, 'data'),
    '--exec-root',
    path.join(dir, 'exec'),
    '--pidfile',
    path.join(dir, 'docker.pid'),
    '--host',
    `unix://${socketPath}`,
    '--cgroup-parent',
    cgroupParent,
    ...(options.args ?? []),
  ];
  const spawnDockerd = (): WatchedProcess =>
    watchProcess(
      spawn('nsenter', [`--net=/run/netns/${host.netns}`, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', host.name, ...dockerd], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  let watched: WatchedProcess;
  try {
    await mkdir(path.join(dir, 'data'));
    // none of the machine's /etc/docker/daemon.json: this engine is the lab host's
    await writeFile(path.join(dir, 'daemon.json'), '{}\n');
    watched = spawnDockerd();
  } catch (error) {
    removeEngine(dir, cgroupParent);
    forget();
    throw error;
  }
  const running = () => watched.child.exitCode === null && watched.child.signalCode === null;
  /** Kills every process of the engine (dockerd, containerd, shims, containers) and waits until they are gone. */
  const killAll = async (): Promise<void> => {
    watched.kill('SIGKILL');
    killEngineProcesses(dir, cgroupParent);
    await watched.exited;
    // containerd and its shims are not dockerd's children: give the kernel a moment to reap them
    for (let attempt = 0; attempt < 50 && enginePids(dir, cgroupParent).length > 0; attempt++) await sleep(100);
  };
  let destroyed: Promise<void> | undefined;
  const destroy = (): Promise<void> => {
    destroyed ??= (async () => {
      await killAll();
      removeEngine(dir, cgroupParent);
      forget();
    })();
    return destroyed;
  };
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  /** Until this dockerd answers; on failure, the caller decides what to tear down. */
  const untilReady = async (): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (!running()) {
        throw new KrakenError(ErrorCode.Unavailable, `dockerd in ${host.name} exited before it answered:\n${tail(watched.output())}`);
      }
      if (await pings(socketPath)) return;
      if (Date.now() > deadline) {
        throw new KrakenError(ErrorCode.Timeout, `dockerd in ${host.name} did not answer /_ping within ${String(readyTimeoutMs)} ms:\n${tail(watched.output())}`);
      }
      await sleep(100);
    }
  };
  try {
    await untilReady();
  } catch (error) {
    await destroy();
    throw error;
  }
  const usable = (verb: string) => {
    if (destroyed !== undefined) throw new KrakenError(ErrorCode.InvalidInput, `dockerd in ${host.name}: ${verb}() after destroy()`);
  };
  return {
    host,
    socketPath,
    get process() {
      return watched;
    },
    stop: async () => {
      usable('stop');
      watched.kill('SIGTERM');
      await watched.exited;
    },
    kill: async () => {
      usable('kill');
      await killAll();
      // what a reboot clears: its mounts and its exec root and pid file (on /run), whose stale pids
      // would make the next dockerd wait for a containerd that is gone
      unmountBelow(dir);
      rmSync(path.join(dir, 'exec'), { recursive: true, force: true });
      rmSync(path.join(dir, 'docker.pid'), { force: true });
    },
    start: async () => {
      usable('start');
      if (running()) throw new KrakenError(ErrorCode.InvalidInput, `dockerd in ${host.name} still runs (pid ${String(watched.child.pid)}): stop() or kill() it first`);
      watched = spawnDockerd();
      // on failure it is left stopped, as it was: destroy() still cleans up
      await untilReady().catch(async (error: unknown) => {
        await killAll();
        throw error;
      });
    },
    destroy,
    [Symbol.asyncDispose]: destroy,
  };
}

function tail(output: string): string {
  return output.split('\n').slice(-20).join('\n');
}

function pings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/_ping', timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => {
      resolve(false);
    });
  });
}

/** Every cgroup hierarchy's directory for `cgroupParent` (cgroup v1: one per controller; v2: one). */
function cgroupDirs(cgroupParent: string): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  return mounts.flatMap((line) => {
    const [before, after] = line.split(' - ');
    const fsType = after?.split(' ')[0];
    const mountPoint = before?.split(' ')[4];
    if ((fsType !== 'cgroup' && fsType !== 'cgroup2') || mountPoint === undefined) return [];
    return [path.join(mountPoint, cgroupParent)];
  });
}

/** Directories below `dir` (itself included), deepest first. */
function treeDeepestFirst(dir: string): string[] {
  let children: string[];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(dir, entry.name));
  } catch {
    return [];
  }
  return [...children.flatMap(treeDeepestFirst), dir];
}

/** The engine's processes: those started with its directory in their command line, and its containers' (by cgroup). */
function enginePids(dir: string, cgroupParent: string): number[] {
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.add(pid);
    } catch {
      // gone meanwhile
    }
  }
  for (const cgroup of cgroupDirs(cgroupParent)) {
    for (const tree of treeDeepestFirst(cgroup)) {
      try {
        for (const pid of readFileSync(path.join(tree, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
          pids.add(Number(pid));
      } catch {
        // no such cgroup
      }
    }
  }
  return [...pids];
}

function killEngineProcesses(dir: string, cgroupParent: string): void {
  for (const pid of enginePids(dir, cgroupParent)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

/**
 * Synchronous (it also runs from the exit hook): kills what is left of the engine, unmounts what it
 * mounted below its directory (network namespaces, container file systems), removes its cgroups
 * and its directory.
 */
function removeEngine(dir: string, cgroupParent: string): void {
  killEngineProcesses(dir, cgroupParent);
  for (const cgroup of cgroupDirs(cgroupParent)) {
    for (const tree of treeDeepestFirst(cgroup)) {
      try {
        rmdirSync(tree);
      } catch {
        // busy or gone
      }
    }
  }
  // a container's mount can still be going away (its shim just killed) when the first try comes:
  // unmount again and retry for a few seconds before giving up
  for (let attempt = 1; ; attempt++) {
    unmountBelow(dir);
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (error) {
      // EBUSY, though Node 24's rmSync reports it with an empty code ("Unknown error: Device or resource busy")
      if (attempt >= 50) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** Unmounts every mount at or below `dir` (network namespaces, container file systems), deepest first. */
function unmountBelow(dir: string): void {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter(
      (mountPoint): mountPoint is string => mountPoint !== undefined && (mountPoint === dir || mountPoint.startsWith(`${dir}/`)),
    )
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mountPoints) {
    try {
      runCommandSync(['umount', '--lazy', mountPoint]);
    } catch {
      // unmounted with its parent
    }
  }
}
