import { BrokerNodeKeeper } from './broker-node-keeper.js';
import type { ManagedRabbit } from './managed-rabbit.js';

/** A stand-in for a running node: the keeper only ever stops one. */
function fakeNode(name: string): ManagedRabbit & { stopped: number } {
  const node = {
    nodeName: name,
    stopped: 0,
    stop: () => {
      node.stopped += 1;
      return Promise.resolve();
    },
  };
  return node as unknown as ManagedRabbit & { stopped: number };
}

describe('BrokerNodeKeeper', () => {
  it('hands the node one start released to the next start with the same key, running', async () => {
    const keeper = new BrokerNodeKeeper();
    const node = fakeNode('a');
    await keeper.release(node, 'key');
    expect(await keeper.take('key')).toBe(node);
    expect(node.stopped).toBe(0);
    // taken: a second start finds nothing
    expect(await keeper.take('key')).toBeUndefined();
  });

  it('stops a kept node that another cluster (another key) would need to replace', async () => {
    const keeper = new BrokerNodeKeeper();
    const node = fakeNode('a');
    await keeper.release(node, 'cluster-1');
    expect(await keeper.take('cluster-2')).toBeUndefined();
    expect(node.stopped).toBe(1);
  });

  it('stops the kept node when the agent exits, and any node released after that', async () => {
    const keeper = new BrokerNodeKeeper();
    const kept = fakeNode('a');
    await keeper.release(kept, 'key');
    await keeper.stopAll();
    const late = fakeNode('b');
    await keeper.release(late, 'key');
    expect({ kept: kept.stopped, late: late.stopped, left: await keeper.take('key') }).toEqual({ kept: 1, late: 1, left: undefined });
  });

  it('keeps one node at a time: a different one released stops the one kept', async () => {
    const keeper = new BrokerNodeKeeper();
    const first = fakeNode('a');
    const second = fakeNode('b');
    await keeper.release(first, 'key');
    await keeper.release(second, 'key');
    expect({ first: first.stopped, second: second.stopped, taken: await keeper.take('key') }).toEqual({ first: 1, second: 0, taken: second });
  });
});
