// Public surface of @kraken/broker.
export type {
  Broker,
  BrokerEvents,
  BrokerStats,
  ConsumeOptions,
  DeadLetter,
  Delivery,
  MessageHandler,
  QueueOptions,
  Subscription,
} from './broker.js';
export type { BrokerOptions } from './options.js';
export { MemoryBroker } from './memory/memory-broker.js';
export { AmqpBroker } from './amqp/amqp-broker.js';
export type { AmqpBrokerOptions, AmqpConnect } from './amqp/amqp-broker.js';
export { TOPIC_EXCHANGE, DeadLetterHeaders, redactUrl } from './amqp/topology.js';
