import path from 'node:path';
import { AmqpBroker } from '@kraken/broker';
import { noopLogger } from '@kraken/common';
import type { DeployStatusBody } from '@kraken/messages';
import type { ProcessDeployer, ProcessDeployerOptions } from '@kraken/process-deployer';
import { amqpUrl, deleteQueues, orchestratorEnd, requireRabbit, tempDir, uniqueName } from '@kraken/testing';
import type { OrchestratorEnd, TempDir } from '@kraken/testing';
import { Worker } from '@kraken/worker';
import type { WorkerOptions } from '@kraken/worker';

/**
 * A real Worker on the real process runtime and RabbitMQ, with the test as its orchestrator (it
 * publishes deploy requests to `queues.node` and reads the statuses): set up and torn down around
 * the test file that calls it (beforeAll/afterAll). `start` makes the deployer and worker, which
 * load the runtime when used, as the agent does.
 */
export interface ProcessWorkerRig {
  readonly queues: { orchestrator: string; telemetry: string; node: string };
  readonly nodeId: string;
  readonly work: TempDir;
  readonly broker: AmqpBroker;
  /** Made by start. */
  readonly deployer: ProcessDeployer;
  start(options: { deployer?: Partial<ProcessDeployerOptions>; worker?: Omit<WorkerOptions, 'queues'> }): Promise<void>;
  /** The latest status the worker reported for `deploymentId`. */
  last(deploymentId: string): DeployStatusBody | undefined;
}

export function processWorkerRig(name: string, deploymentId: string): ProcessWorkerRig {
  const url = amqpUrl();
  const nodeId = uniqueName(`${name}-it`);
  const queues = { orchestrator: uniqueName(`${name}-it.orchestrator`), telemetry: uniqueName(`${name}-it.telemetry`), node: uniqueName(`${name}-it.node`) };
  let work: TempDir | undefined;
  let broker: AmqpBroker | undefined;
  let end: OrchestratorEnd | undefined;
  let deployer: ProcessDeployer | undefined;
  let worker: Worker | undefined;
  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is made in beforeAll`);
    return value;
  };

  beforeAll(async () => {
    await requireRabbit(url);
    work = await tempDir(`kraken-${name}-`);
    broker = await AmqpBroker.create({ url });
    end = await orchestratorEnd(broker, queues);
  });

  afterAll(async () => {
    await worker?.stop();
    await deployer?.stop(deploymentId).catch(() => undefined);
    await deployer?.close();
    await end?.stop();
    await broker?.close();
    await deleteQueues(url, Object.values(queues));
    await work?.remove();
  });

  return {
    queues,
    nodeId,
    get work() {
      return required(work, 'the work folder');
    },
    get broker() {
      return required(broker, 'the broker');
    },
    get deployer() {
      if (deployer === undefined) throw new Error('the deployer is made by start()');
      return deployer;
    },
    async start(options) {
      const { ProcessDeployer } = await import('@kraken/process-deployer');
      deployer = await ProcessDeployer.create({ dataDir: path.join(required(work, 'the work folder').path, 'process'), nodeId, logger: noopLogger, ...options.deployer });
      worker = await Worker.create({ broker: required(broker, 'the broker'), deployer, nodeId, logger: noopLogger, options: { queues, ...options.worker } });
    },
    last: (id) => end?.statuses.filter((status) => status.deploymentId === id).at(-1),
  };
}
