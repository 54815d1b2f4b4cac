import { nodePermissions } from './users.js';

const matches = (pattern: string, name: string) => new RegExp(pattern).test(name);

describe('nodePermissions', () => {
  const permissions = nodePermissions('pi.kitchen');

  it('lets a node declare and read its own queue and private subscription queues', () => {
    for (const name of ['kraken.node.pi.kitchen', 'amq.gen-x1Y2z3']) {
      expect(matches(permissions.configure, name)).toBe(true);
      expect(matches(permissions.read, name)).toBe(true);
    }
  });

  it("keeps it from another node's queue, even one whose id only differs by the escaped dot", () => {
    for (const name of ['kraken.node.other', 'kraken.node.piXkitchen', 'kraken.node.pi.kitchen2', 'kraken.orchestrator', 'kraken.dead-letter']) {
      expect(matches(permissions.read, name)).toBe(false);
      expect(matches(permissions.configure, name)).toBe(false);
    }
  });

  it('lets it publish through the default exchange and read (bind to) the topic exchange, and declare neither', () => {
    expect(matches(permissions.write, 'amq.default')).toBe(true);
    expect(matches(permissions.read, 'kraken.topics')).toBe(true);
    expect(matches(permissions.configure, 'kraken.topics')).toBe(false);
    expect(matches(permissions.write, 'kraken.topics')).toBe(false);
  });

  it('lets it bind to the topics it is given on the topic exchange and to no other, and publish there to none', () => {
    const topics = nodePermissions('pi.kitchen', ['kraken.leader']).topics;
    expect(topics?.exchange).toBe('kraken.topics');
    expect(matches(topics?.read ?? '', 'kraken.leader')).toBe(true);
    for (const key of ['kraken.state.change', 'kraken.leaderX', 'kraken.#', '#']) expect(matches(topics?.read ?? '', key)).toBe(false);
    expect(matches(topics?.write ?? '', 'kraken.leader')).toBe(false);
    expect(matches(permissions.topics?.read ?? '', 'kraken.leader')).toBe(false);
  });
});
