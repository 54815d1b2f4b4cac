import { randomUUID } from 'node:crypto';
import { brokerContract } from '../../test/broker-contract.js';
import { MemoryBroker } from './memory-broker.js';

const brokers = new Set<MemoryBroker>();
brokerContract('MemoryBroker', {
  create: () => {
    const broker = new MemoryBroker({ maxDeliveries: 3, telemetryMaxLength: 5 });
    brokers.add(broker);
    return Promise.resolve(broker);
  },
  queueName: (prefix) => `test.${prefix}.${randomUUID()}`,
  injectRaw: (broker, queue, content) => {
    const memory = [...brokers].find((candidate) => candidate === broker);
    if (!memory) throw new Error('injectRaw: not a broker made by this harness');
    memory.injectRaw(queue, content);
    return Promise.resolve();
  },
});
