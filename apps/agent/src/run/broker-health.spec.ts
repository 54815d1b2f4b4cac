import { brokerService } from './broker-health.js';

const connected = { published: 0, dropped: 0, decodeFailures: 0, deadLettered: 0, duplicatesSkipped: 0, handlerFailures: 0, reconnects: 0, reconnectAttempts: 0, connected: true };

describe('brokerService', () => {
  it('shows RabbitMQ up without its password', () => {
    expect(brokerService({ kind: 'amqp', url: 'amqp://kraken:s3cret@10.0.0.5:5672' }, connected)).toEqual({
      name: 'broker',
      status: 'up',
      detail: 'RabbitMQ at amqp://kraken:***@10.0.0.5:5672',
    });
  });

  it('says for how long RabbitMQ has been unreachable and why', () => {
    const down = { ...connected, connected: false, disconnectedMs: 12_400, reconnectAttempts: 7, lastError: 'connect ECONNREFUSED 10.0.0.5:5672' };
    expect(brokerService({ kind: 'amqp', url: 'amqp://kraken:s3cret@10.0.0.5:5672' }, down)).toEqual({
      name: 'broker',
      status: 'down',
      detail: 'RabbitMQ at amqp://kraken:***@10.0.0.5:5672: disconnected for 12 s, reconnecting (7 attempts so far; last error: connect ECONNREFUSED 10.0.0.5:5672)',
    });
  });

  it("lists the members of the agent's own RabbitMQ cluster, and which are down", () => {
    const members = { members: ['kraken-a@10.0.0.5', 'kraken-b@10.0.0.6', 'kraken-c@10.0.0.7'], running: ['kraken-a@10.0.0.5', 'kraken-b@10.0.0.6'] };
    expect(brokerService({ kind: 'managed', url: 'amqp://kraken-admin:pw@127.0.0.1:5673' }, connected, members).detail).toBe(
      "this agent's RabbitMQ node at amqp://kraken-admin:***@127.0.0.1:5673; RabbitMQ cluster: 2 of 3 nodes running (kraken-a@10.0.0.5, kraken-b@10.0.0.6); down: kraken-c@10.0.0.7",
    );
  });

  it('shows the in-process broker as up, with how to add machines', () => {
    expect(brokerService({ kind: 'memory' }, connected)).toMatchObject({ status: 'up', detail: expect.stringContaining('in-process') as unknown });
  });
});
