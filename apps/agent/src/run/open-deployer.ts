import path from 'node:path';
import Docker from 'dockerode';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
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

/** Docker wherever its engine answers; supervised processes otherwise (or when asked for). */
export async function openDeployer(options: OpenDeployerOptions): Promise<OpenedDeployer> {
  const { runtime, dockerSocket, dataDir, nodeId, logger } = options;
  if (runtime !== 'process') {
    const docker = new Docker({ socketPath: dockerSocket });
    const problem = await pingProblem(docker, options.pingTimeoutMs ?? 2_000);
    if (problem === undefined) {
      logger.info('apps run in Docker', { socket: dockerSocket });
      const deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(dataDir, 'docker'), logger });
      return { deployer, runtime: 'docker', engine: docker, close: () => deployer.close() };
    }
    if (runtime === 'docker') {
      throw new KrakenError(ErrorCode.Unavailable, `--runtime docker: the Docker engine at ${dockerSocket} does not answer (${problem})`);
    }
    logger.info('no Docker engine answers: apps run as supervised processes', { socket: dockerSocket, reason: problem });
  }
  const deployer = await ProcessDeployer.create({ dataDir: path.join(dataDir, 'process'), nodeId, logger });
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
