// A custom Kraken agent: a worker that heartbeats like any Kraken node, plus one executor of its
// own (the machine's temperature). Run it with `npm start`; stop it with Ctrl-C or SIGTERM.
import { AmqpBroker, redactUrl } from '@kraken/broker';
import { createLogger, toKrakenError } from '@kraken/common';
import { Worker } from '@kraken/worker';
import { readConfig } from './config.js';
import { noAppsDeployer, noAppsEngine } from './no-apps-deployer.js';
import { ThermalExecutor } from './thermal-executor.js';

const logger = createLogger({ format: process.stderr.isTTY ? 'pretty' : 'json', fields: { app: 'custom-agent' } });

async function main(): Promise<void> {
  const config = readConfig(process.env);

  // 1. The executor first: its first reading is ready before the worker's first heartbeat.
  const thermal = new ThermalExecutor({ thermalDir: config.thermalDir, logger });
  await thermal.setup();

  // 2. The broker, and a worker that adds the executor's readings to every node.info. A provider
  //    that throws or returns bad values costs only its own readings, never the heartbeat.
  const broker = await AmqpBroker.create({ url: config.brokerUrl, logger });
  const worker = await Worker.create({
    broker,
    nodeId: config.nodeId,
    logger,
    deployer: noAppsDeployer,
    engine: noAppsEngine,
    nodeInfoExtensions: () => thermal.extensions(),
  }).catch(async (error: unknown) => {
    await broker.close();
    throw error;
  });

  // 3. The periodic job. A slow tick skips the next one instead of piling up; a failed one is logged.
  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    thermal
      .tick()
      .catch((error: unknown) => {
        logger.warn('executor tick failed', { executor: thermal.name, error: toKrakenError(error) });
      })
      .finally(() => {
        ticking = false;
      });
  }, config.sampleIntervalMs);

  logger.info('custom agent running', {
    nodeId: config.nodeId,
    broker: redactUrl(config.brokerUrl),
    sampleIntervalMs: config.sampleIntervalMs,
  });

  // 4. Shutdown in reverse order: stop heartbeating, then the executor, then the connection.
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    logger.info('stopping', { signal });
    clearInterval(timer);
    await worker.stop();
    await thermal.stop();
    await broker.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // nothing is left running after stop(), so the process exits on its own
      stop(signal).catch((error: unknown) => {
        logger.error('could not stop cleanly', { error: toKrakenError(error) });
        process.exitCode = 1;
      });
    });
  }
}

main().catch((error: unknown) => {
  logger.error('custom agent failed to start', { error: toKrakenError(error) });
  process.exitCode = 1;
});
