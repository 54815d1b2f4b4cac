import { failoverService } from './failover-health.js';

const node = (id: string, n: number) => `kraken-${id}@10.0.0.${n}`;

describe('failoverService', () => {
  it('names the standbys of a cluster of three that may lead', () => {
    const members = [node('a', 1), node('b', 2), node('c', 3)];
    expect(failoverService('a', { members, running: members })).toEqual({
      name: 'failover',
      status: 'up',
      detail: 'leader a; standbys: b, c (one takes over if the leader fails)',
    });
  });

  it('is down, naming it, when a member stopped running (one standby still takes over)', () => {
    const members = [node('a', 1), node('b', 2), node('c', 3)];
    expect(failoverService('a', { members, running: [node('a', 1), node('b', 2)] })).toEqual({
      name: 'failover',
      status: 'down',
      detail: 'leader a; standbys: b (one takes over if the leader fails); not running: c',
    });
  });

  it('says two machines have no automatic failover', () => {
    const members = [node('a', 1), node('b', 2)];
    expect(failoverService('a', { members, running: members })).toMatchObject({ status: 'up', detail: expect.stringContaining('two machines have no majority') as unknown });
  });

  it('says a lone leader has no standby', () => {
    expect(failoverService('a', { members: [node('a', 1)], running: [node('a', 1)] })).toMatchObject({ status: 'up', detail: expect.stringContaining('no standby') as unknown });
  });
});
