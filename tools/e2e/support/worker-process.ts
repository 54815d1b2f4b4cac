// A worker as its own process, so a test can kill -9 it like a crashed agent. Run from the
// repository root with the TypeScript sources:
//   node --conditions=@kraken/source --import @swc-node/register/esm-register tools/e2e/support/worker-process.ts '<config json>'
// It writes one JSON event per line on stdout (ready, status, reconciled, failure) and its log on
// stderr. SIGTERM stops it gracefully; SIGKILL is the crash the tests are about.
import { AmqpBroker } from '@kraken/broker';
import { createLogger } from '@kraken/common';
import { DockerDeployer } from '@kraken/docker-deployer';
import { Worker } from '@kraken/worker';
import type { WorkerOptions, WorkerQueues } from '@kraken/worker';
import Docker from 'dockerode';

export interface WorkerProcessConfig {
  amqpUrl: string;
  deadLetterQueue: string;
  nodeId: string;
  queues: WorkerQueues;
  workDir: string;
  templatesDir: string;
  options: Omit<WorkerOptions, 'queues'>;
}

export type WorkerProcessEvent =
  | { event: 'ready'; pid: number }
  | { event: 'status'; deploymentId: string; status: string; message?: string | undefined }
  | { event: 'reconciled'; deploymentIds: string[] }
  | { event: 'failure'; during: string; message: string };

function emit(event: WorkerProcessEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as WorkerProcessConfig;
  const logger = createLogger({ level: 'info', stream: process.stderr, fields: { nodeId: config.nodeId, pid: process.pid } });
  const docker = new Docker({ socketPath: process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock' });
  const broker = await AmqpBroker.create({ url: config.amqpUrl, deadLetterQueue: config.deadLetterQueue, logger });
  const deployer = new DockerDeployer({
    docker,
    nodeId: config.nodeId,
    workDir: config.workDir,
    templatesDir: config.templatesDir,
    logger,
    readyTimeout: '90s',
  });
  const worker = await Worker.create({
    broker,
    deployer,
    engine: docker,
    nodeId: config.nodeId,
    logger,
    options: { ...config.options, queues: config.queues },
  });
  worker.on('status', (body) => {
    emit({ event: 'status', deploymentId: body.deploymentId, status: body.status, message: body.message });
  });
  worker.on('failure', (error, context) => {
    emit({ event: 'failure', during: context.during, message: error.message });
  });
  // create() has reconciled already (before any listener could be attached): what it holds now is
  // what it found running on this node
  emit({ event: 'reconciled', deploymentIds: worker.deployments().map((d) => d.deploymentId) });
  emit({ event: 'ready', pid: process.pid });

  process.once('SIGTERM', () => {
    void (async () => {
      await worker.stop();
      await broker.close();
      process.exit(0);
    })();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `worker process failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
