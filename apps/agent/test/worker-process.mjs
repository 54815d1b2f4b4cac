// A worker in a process of its own, with the runtime the agent would open (the built agent's
// openDeployer), so a test can end it with SIGKILL (an agent crash: no clean stop, nothing
// flushed) and start another on the same data dir. Runs the built packages.
// Argument: JSON { url, nodeId, dataDir, queues, runtime, dockerSocket, cursorWriteInterval }.
import path from 'node:path';
import { AmqpBroker } from '@kraken/broker';
import { createLogger } from '@kraken/common';
import { FileLogCursorStore, Worker } from '@kraken/worker';
import { openDeployer } from '../dist/run/open-deployer.js';

const config = JSON.parse(process.argv[2] ?? '{}');
const logger = createLogger({ level: 'warn', format: 'pretty' });
const broker = await AmqpBroker.create({ url: config.url });
const runtime = await openDeployer({
  runtime: config.runtime,
  dockerSocket: config.dockerSocket,
  dataDir: config.dataDir,
  nodeId: config.nodeId,
  logger,
});
const logCursors = await FileLogCursorStore.open({
  dir: path.join(config.dataDir, 'log-cursors'),
  logger,
  writeInterval: config.cursorWriteInterval,
});
const worker = await Worker.create({
  broker,
  deployer: runtime.deployer,
  ...(runtime.engine === undefined ? {} : { engine: runtime.engine }),
  nodeId: config.nodeId,
  logger,
  logCursors,
  options: { queues: config.queues, heartbeatInterval: '500ms' },
});
// what it took over at start (an agent restart), for the test to wait on
process.stdout.write(
  `worker ready on ${runtime.runtime}, running ${JSON.stringify(worker.deployments().map((d) => d.deploymentId))}\n`,
);
process.once('SIGTERM', () => {
  void (async () => {
    await worker.stop();
    await runtime.close();
    await broker.close();
    process.exit(0);
  })();
});
