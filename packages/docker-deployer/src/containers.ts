import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ErrorCode, listeningSockets, withTimeout } from '@kraken/common';
import { DeployStep, ProbeSeries, Tail, delay, deployError } from '@kraken/runtime';
import { OutputLines, demuxAll } from './demux.js';
import type { OutputLine } from './demux.js';
import { engineStatus, mapEngineError } from './errors.js';

export interface Limits {
  memoryMb: number;
  /** 0 means no CPU limit. */
  cpus: number;
}

export function hostConfigLimits(limits: Limits): Pick<Docker.HostConfig, 'Memory' | 'NanoCpus'> {
  return {
    Memory: Math.round(limits.memoryMb * 1024 * 1024),
    ...(limits.cpus > 0 ? { NanoCpus: Math.round(limits.cpus * 1e9) } : {}),
  };
}

export function envList(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/** Removes a container, whatever its state; a container already gone is fine. */
export async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    const status = engineStatus(error);
    // 404: already gone; 409: removal already in progress
    if (status !== 404 && status !== 409) throw error;
  }
}

/** The last lines a container wrote (stdout and stderr interleaved as Docker stored them). */
export async function lastLogLines(container: Docker.Container, count: number): Promise<string[]> {
  try {
    const buffer = await container.logs({ stdout: true, stderr: true, follow: false, tail: count });
    return demuxAll(buffer).map((line) => line.text);
  } catch {
    return [];
  }
}

export interface TestRequest {
  deploymentId: string;
  image: string;
  command: string;
  env: string[];
  labels: Record<string, string>;
  limits: Limits;
  timeoutMs: number;
  tailLines: number;
  onLine: (line: OutputLine) => void;
}

/**
 * Runs the manifest's test command in a throwaway container of the image. Output is attached
 * before start so no line is missed; the container is removed whatever happens.
 */
export async function runTest(docker: Docker, request: TestRequest): Promise<void> {
  const { deploymentId } = request;
  const context = { deploymentId, step: DeployStep.Test };
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: request.image,
      Cmd: ['sh', '-c', request.command],
      Env: request.env,
      Labels: request.labels,
      Tty: false,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: { Init: true, ...hostConfigLimits(request.limits) },
    });
  } catch (error) {
    throw mapEngineError(error, { ...context, action: 'create the test container' });
  }
  const tail = new Tail(request.tailLines);
  try {
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    const output = new OutputLines();
    const emit = (lines: OutputLine[]): void => {
      for (const line of lines) {
        tail.push(line.text);
        request.onLine(line);
      }
    };
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        emit(output.push(chunk));
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => {
        resolve();
      });
    });
    await container.start();
    const exit = await waitWithTimeout(container, request.timeoutMs);
    // the attach stream can trail the exit by a moment; a bounded wait keeps the last lines
    await withTimeout(ended, 2000, () => undefined);
    emit(output.flush());
    stream.destroy();
    if (exit === 'timeout') {
      throw deployError(ErrorCode.Timeout, `the test command did not finish within ${Math.round(request.timeoutMs / 1000)} s: ${request.command}${tail.format()}`, {
        ...context,
        details: { output: tail.lines },
      });
    }
    if (exit !== 0) {
      throw deployError(ErrorCode.Internal, `the test command failed with exit code ${exit}: ${request.command}${tail.format()}`, {
        ...context,
        details: { exitCode: exit, output: tail.lines },
      });
    }
  } catch (error) {
    throw mapEngineError(error, { ...context, action: 'run the test container' });
  } finally {
    await removeContainer(container).catch(() => undefined);
  }
}

function waitWithTimeout(container: Docker.Container, timeoutMs: number): Promise<number | 'timeout'> {
  const exit = (container.wait() as Promise<{ StatusCode: number }>).then((result) => result.StatusCode);
  return withTimeout(exit, timeoutMs, () => 'timeout' as const);
}

/** The host port Docker bound for `<port>/tcp`, preferring the IPv4 binding (20.10 may pick different v4/v6 ports). */
export function boundHostPort(info: Docker.ContainerInspectInfo, port: number): number | undefined {
  const bindings = info.NetworkSettings.Ports[`${port}/tcp`] ?? [];
  const chosen = bindings.find((binding) => binding.HostIp === '0.0.0.0' || binding.HostIp === '') ?? bindings[0];
  const hostPort = chosen === undefined ? NaN : Number(chosen.HostPort);
  return Number.isInteger(hostPort) && hostPort > 0 ? hostPort : undefined;
}

export interface ReadyRequest {
  deploymentId: string;
  hostPort: number | undefined;
  /**
   * The port published inside the container. When given, an app that listens on other ports but
   * not this one ends the wait with `listensOn` (see ReadyOutcome) instead of a timeout.
   */
  containerPort?: number;
  endpoint: string;
  timeoutMs: number;
  tailLines: number;
}

/** How long an app without a port must stay up to count as started. */
const NO_PORT_GRACE_MS = 1000;
/**
 * Poll gaps: short while most apps are still starting, so Running follows the app's first answer
 * closely (a probe of a port nobody listens on yet is refused within a millisecond); longer after
 * that, so a slow starter is not asked twenty times a second.
 */
const FAST_POLL_MS = 50;
const FAST_POLL_FOR_MS = 5000;
const SLOW_POLL_MS = 250;

/** Ready, or listening only on ports other than the one published: the container must be made again publishing `listensOn`. */
export type ReadyOutcome = { ready: true } | { ready: false; listensOn: number };

/**
 * Waits until the app answers HTTP on its host port (see probeHttp), failing early when the
 * container stops or restarts (the restart policy would otherwise hide a crash loop). Probes run
 * side by side (see ProbeSeries), and an answer ends the wait at once: only the app in this
 * container can answer on its published port. The container is inspected while none has, and
 * the ports it listens on are read from its network namespace's socket table: an app whose code
 * listens on another port than its manifest's (`app.listen(7211)` under `port = 3000`) is told
 * apart from one still starting.
 */
export async function waitReady(container: Docker.Container, request: ReadyRequest): Promise<ReadyOutcome> {
  const { deploymentId, hostPort } = request;
  const context = { deploymentId, step: DeployStep.Ready };
  const started = Date.now();
  const deadline = started + (hostPort === undefined ? Math.min(NO_PORT_GRACE_MS, request.timeoutMs) : request.timeoutMs);
  const probes = hostPort === undefined ? undefined : new ProbeSeries(hostPort, request.endpoint, Math.min(2000, request.timeoutMs));
  try {
    for (;;) {
      const now = Date.now();
      const pause = Math.max(0, Math.min(now - started < FAST_POLL_FOR_MS ? FAST_POLL_MS : SLOW_POLL_MS, deadline - now));
      if (probes === undefined) {
        await delay(pause);
      } else {
        probes.launch();
        await probes.wait(pause);
        if (probes.ready) return { ready: true };
      }
      let info: Docker.ContainerInspectInfo;
      try {
        info = await container.inspect();
      } catch (error) {
        throw mapEngineError(error, { ...context, action: 'inspect the app container' });
      }
      if (!info.State.Running || info.State.Restarting || info.RestartCount > 0) {
        const lines = await lastLogLines(container, request.tailLines);
        throw deployError(ErrorCode.Internal, `app exited with code ${info.State.ExitCode} right after start${formatLines(lines)}`, {
          ...context,
          details: { exitCode: info.State.ExitCode, output: lines },
        });
      }
      const elsewhere = await listeningElsewhere(info, request.containerPort);
      if (elsewhere !== undefined) return { ready: false, listensOn: elsewhere };
      if (Date.now() >= deadline) {
        if (probes === undefined) return { ready: true };
        // started after the deadline: an agent stopped for a while (SIGSTOP, a suspended laptop)
        // wakes past it with only probes made before it stopped, while the app went on starting
        if (await probes.answersNow()) return { ready: true };
        const lines = await lastLogLines(container, request.tailLines);
        throw deployError(
          ErrorCode.Internal,
          `app did not listen on port ${hostPort} within ${formatSeconds(request.timeoutMs)} (GET ${request.endpoint}: ${probes.lastReason})${formatLines(lines)}`,
          { ...context, details: { hostPort, output: lines } },
        );
      }
    }
  } finally {
    probes?.stop();
  }
}

/**
 * The port an app listens on inside its container when that is not `containerPort`: the lowest
 * of its listening ports, read through the container's init process from the host's /proc (the
 * engine runs on this machine). Undefined while it listens on `containerPort` or on nothing yet,
 * and where /proc of the container cannot be read (then the wait ends as before, in a timeout).
 */
async function listeningElsewhere(info: Docker.ContainerInspectInfo, containerPort: number | undefined): Promise<number | undefined> {
  if (containerPort === undefined || !(info.State.Pid > 0)) return undefined;
  const ports = [...new Set((await listeningSockets(info.State.Pid)).map((socket) => socket.port))].sort((a, b) => a - b);
  return ports.length === 0 || ports.includes(containerPort) ? undefined : ports[0];
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatLines(lines: readonly string[]): string {
  return lines.length === 0 ? '\n(the app wrote no output)' : `\nlast log lines:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}
