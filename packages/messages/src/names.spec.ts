import { ErrorCode, KrakenError } from '@kraken/common';
import { BrokerUsers, Queues } from './names.js';

describe('Queues', () => {
  it('has fixed names for the shared queues', () => {
    expect(Queues.Orchestrator).toBe('kraken.orchestrator');
    expect(Queues.OrchestratorTelemetry).toBe('kraken.orchestrator.telemetry');
    expect(Queues.DeadLetter).toBe('kraken.dead-letter');
  });

  it.each(['pi-kitchen', 'node_1', 'mini.pc', 'A', 'x'.repeat(64)])('names the command queue of node %s', (nodeId) => {
    expect(Queues.node(nodeId)).toBe(`kraken.node.${nodeId}`);
  });

  it.each(['', 'x'.repeat(65), 'pi kitchen', 'node#1', 'node.*', 'node/1', 'nöde'])('refuses node id %j', (nodeId) => {
    expect(() => Queues.node(nodeId)).toThrow(KrakenError);
    expect(() => Queues.node(nodeId)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, details: { field: 'nodeId' } }) as Error);
  });

  it('refuses a node id that is not a string (untyped callers)', () => {
    expect(() => Queues.node(undefined as unknown as string)).toThrow(/nodeId: expected 1-64 characters .*, got undefined/);
  });
});

describe('BrokerUsers', () => {
  it('names the broker user of a node and reads the node back', () => {
    expect(BrokerUsers.ofNode('pi-kitchen')).toBe('kraken-node-pi-kitchen');
    expect(BrokerUsers.nodeOf('kraken-node-pi-kitchen')).toBe('pi-kitchen');
  });

  it('says other users (an operator, the leader) stand for no node', () => {
    expect(BrokerUsers.nodeOf('kraken-admin')).toBeUndefined();
    expect(BrokerUsers.nodeOf('guest')).toBeUndefined();
  });

  it('refuses a node id that could not name a queue', () => {
    expect(() => BrokerUsers.ofNode('node#1')).toThrow(KrakenError);
  });
});
