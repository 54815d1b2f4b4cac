import http from 'node:http';
import path from 'node:path';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { describeIsolation } from '@kraken/messages';
import type { Deployer, EngineProbe } from '@kraken/worker';
import { DEFAULT_APPS_ROOT, hasDeployments, processRuntimeDir, removeIfNoApps } from './process-dir.js';

/** A heartbeat's ping gives up on its own sooner (the worker's enginePingTimeout); this only frees a hung socket. */
const ENGINE_PING_SOCKET_TIMEOUT_MS = 10_000;

export interface OpenedDeployer {
  deployer: Deployer;
  runtime: 'docker' | 'process';
  /** What the worker pings to report engine health; absent for runtimes without an engine. */
  engine?: EngineProbe;
  /** Lets go of the runtime at shutdown; apps keep running for the next start to adopt. */
  close(): Promise<void>;
}

export interface OpenDeployerOptions {
  runtime: 'auto' | 'docker' | 'process';
  dockerSocket: string;
  dataDir: string;
  nodeId: string;
  logger: Logger;
  /** @default 2_000 */
  pingTimeoutMs?: number;
  /** The unprivileged user process-runtime apps run as (see processRuntimeDir); undefined: the agent's user. */
  appUser?: string | undefined;
  /** @default DEFAULT_APPS_ROOT */
  appsRoot?: string;
}

/**
 * Docker wherever its engine answers; supervised processes otherwise (or when asked for). The
 * choice is logged in one line with what the runtime enforces, and, when Docker was wanted but
 * did not answer, as a warning saying why: a silent fallback would leave people trusting apps
 * with less isolation than they expect. Only the chosen runtime is loaded: dockerode (with its SSH
 * and gRPC clients) stays out of a machine without a Docker engine, which is asked over plain
 * HTTP whether it is there.
 */
export async function openDeployer(options: OpenDeployerOptions): Promise<OpenedDeployer> {
  const { runtime, dockerSocket, dataDir, nodeId, logger } = options;
  let dockerProblem: string | undefined;
  if (runtime !== 'process') {
    dockerProblem = await pingProblem(dockerSocket, options.pingTimeoutMs ?? 2_000);
    if (dockerProblem === undefined) {
      const [{ default: Docker }, { DockerDeployer }] = await Promise.all([import('dockerode'), import('@kraken/docker-deployer')]);
      const docker = new Docker({ socketPath: dockerSocket });
      const deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(dataDir, 'docker'), logger });
      logger.info(`apps run in Docker, engine at ${dockerSocket} (${describeIsolation(deployer.isolation)})`, { socket: dockerSocket });
      // every heartbeat pings the engine: over one kept-alive connection, without dockerode's request machinery
      const connection = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const engine: EngineProbe = {
        ping: async () => {
          const why = await pingProblem(dockerSocket, ENGINE_PING_SOCKET_TIMEOUT_MS, connection);
          if (why !== undefined) throw new KrakenError(ErrorCode.Unavailable, `the Docker engine at ${dockerSocket} does not answer (${why})`);
        },
      };
      const close = () => {
        connection.destroy();
        return deployer.close();
      };
      return { deployer, runtime: 'docker', engine, close };
    }
    if (runtime === 'docker') {
      throw new KrakenError(ErrorCode.Unavailable, `--runtime docker: the Docker engine at ${dockerSocket} does not answer (${dockerProblem})`);
    }
  }
  const { ProcessDeployer } = await import('@kraken/process-deployer');
  const { appUser } = options;
  const place = processRuntimeDir({
    dataDir,
    appUser,
    isRoot: process.getuid?.() === 0,
    appsRoot: options.appsRoot ?? DEFAULT_APPS_ROOT,
    olderApps: await hasDeployments(dataDir),
  });
  if (place.note !== undefined) logger.warn(place.note);
  const deployer = await ProcessDeployer.create({ dataDir: place.dir, nodeId, logger, ...(appUser === undefined ? {} : { appUser }) });
  const enforces = describeIsolation(deployer.isolation);
  if (dockerProblem !== undefined) {
    logger.warn(`no Docker engine answered at ${dockerSocket} (${dockerProblem}): apps run as supervised processes (${enforces})`, {
      socket: dockerSocket,
    });
  } else {
    logger.info(`--runtime process: apps run as supervised processes (${enforces})`);
  }
  const close = async (): Promise<void> => {
    await deployer.close();
    if (!place.inDataDir) await removeIfNoApps(place.dir);
  };
  return { deployer, runtime: 'process', close };
}

/** Why the engine at `socketPath` does not answer its `/_ping` (what `docker info` asks first), or undefined when it does. */
function pingProblem(socketPath: string, timeoutMs: number, agent?: http.Agent): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/_ping', timeout: timeoutMs, ...(agent === undefined ? {} : { agent }) }, (response) => {
      response.resume();
      resolve(response.statusCode === 200 ? undefined : `/_ping answered HTTP ${String(response.statusCode)}`);
    });
    request.once('timeout', () => {
      request.destroy(new Error(`no answer within ${String(timeoutMs)} ms`));
    });
    request.once('error', (error) => {
      resolve(error.message);
    });
  });
}
