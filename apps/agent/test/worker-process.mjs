// A worker with the process runtime in a process of its own, as the agent runs it, so a test can
// end it with SIGKILL (an agent crash: no clean stop, nothing flushed) and start another on the
// same data dir. Runs the built packages. Argument: JSON { url, nodeId, dataDir, queues, cursorWriteInterval }.
import path from 'node:path';
import { AmqpBroker } from '@kraken/broker';
import { createLogger } from '@kraken/common';
import { FileLogCursorStore, Worker } from '@kraken/worker';

// loaded when used, as the agent loads its runtime
const { ProcessDeployer } = await import('@kraken/process-deployer');

const config = JSON.parse(process.argv[2] ?? '{}');
const logger = createLogger({ level: 'warn', format: 'pretty' });
const broker = await AmqpBroker.create({ url: config.url });
const deployer = await ProcessDeployer.create({
  dataDir: path.join(config.dataDir, 'process'),
  nodeId: config.nodeId,
  logger,
  logPollInterval: '100ms',
});
const logCursors = await FileLogCursorStore.open({
  dir: path.join(config.dataDir, 'log-cursors'),
  logger,
  writeInterval: config.cursorWriteInterval,
});
const worker = await Worker.create({
  broker,
  deployer,
  nodeId: config.nodeId,
  logger,
  logCursors,
  options: { queues: config.queues, heartbeatInterval: '500ms' },
});
// what it took over at start (an agent restart), for the test to wait on
process.stdout.write(`worker ready, running ${JSON.stringify(worker.deployments().map((d) => d.deploymentId))}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await worker.stop();
    await deployer.close();
    await broker.close();
    process.exit(0);
  })();
});
