import path from 'node:path';
import Docker from 'dockerode';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { describeIsolation } from '@kraken/messages';
import { DockerDeployer } from '@kraken/docker-deployer';
import { ProcessDeployer } from '@kraken/process-deployer';
import type { Deployer, EngineProbe } from '@kraken/worker';

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
}

/**
 * Docker wherever its engine answers; supervised processes otherwise (or when asked for). The
 * choice is logged in one line with what the runtime enforces, and, when Docker was wanted but
 * did not answer, as a warning saying why: a silent fallback would leave people trusting apps
 * with less isolation than they expect.
 */
export async function openDeployer(options: OpenDeployerOptions): Promise<OpenedDeployer> {
  const { runtime, dockerSocket, dataDir, nodeId, logger } = options;
  let dockerProblem: string | undefined;
  if (runtime !== 'process') {
    const docker = new Docker({ socketPath: dockerSocket });
    dockerProblem = await pingProblem(docker, options.pingTimeoutMs ?? 2_000);
    if (dockerProblem === undefined) {
      const deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(dataDir, 'docker'), logger });
      logger.info(`apps run in Docker, engine at ${dockerSocket} (${describeIsolation(deployer.isolation)})`, { socket: dockerSocket });
      return { deployer, runtime: 'docker', engine: docker, close: () => deployer.close() };
    }
    if (runtime === 'docker') {
      throw new KrakenError(ErrorCode.Unavailable, `--runtime docker: the Docker engine at ${dockerSocket} does not answer (${dockerProblem})`);
    }
  }
  const deployer = await ProcessDeployer.create({ dataDir: path.join(dataDir, 'process'), nodeId, logger });
  const enforces = describeIsolation(deployer.isolation);
  if (dockerProblem !== undefined) {
    logger.warn(`no Docker engine answered at ${dockerSocket} (${dockerProblem}): apps run as supervised processes (${enforces})`, {
      socket: dockerSocket,
    });
  } else {
    logger.info(`--runtime process: apps run as supervised processes (${enforces})`);
  }
  return { deployer, runtime: 'process', close: () => deployer.close() };
}

async function pingProblem(docker: Docker, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
