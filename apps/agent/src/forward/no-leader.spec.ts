import { ErrorCode } from '@kraken/common';
import { noLeaderBody, noLeaderError } from './no-leader.js';

const leader = { nodeId: 'agent-1', apiUrl: 'http://10.0.0.1:4000', epoch: 3, heardAt: 0 };

describe('noLeaderError', () => {
  it('says the cluster has no reachable leader, which was last known, when it was heard and why it was not reached', () => {
    const error = noLeaderError({ agentId: 'agent-4', leader, silentForMs: 4_200, reason: { kind: 'unreachable', error: 'connect ECONNREFUSED 10.0.0.1:4000' } });
    expect(error.code).toBe(ErrorCode.NoLeader);
    expect(error.message).toBe(
      'the cluster has no reachable leader right now: agent agent-4 forwards API requests to the leader, and the last known one, agent-1 at http://10.0.0.1:4000 (last heard from 4.2 s ago), does not answer (connect ECONNREFUSED 10.0.0.1:4000); a standby takes over within seconds where the cluster has one: try again shortly',
    );
    expect(error.details).toEqual({ lastKnownLeader: { nodeId: 'agent-1', apiUrl: 'http://10.0.0.1:4000', lastHeardMsAgo: 4_200 } });
    expect(error.nodeId).toBe('agent-4');
  });

  it('says so when no leader is known yet', () => {
    const error = noLeaderError({ agentId: 'agent-4', leader: undefined, silentForMs: undefined, reason: { kind: 'unknown' } });
    expect(error.message).toMatch(/^the cluster has no reachable leader right now: agent agent-4 forwards API requests to the leader and knows of none yet/);
    expect(error.details).toEqual({ lastKnownLeader: null });
  });

  it('warns that a request cut off half-way may have been carried out', () => {
    const error = noLeaderError({ agentId: 'agent-4', leader, silentForMs: undefined, reason: { kind: 'broken', error: 'socket hang up' } });
    expect(error.message).toContain('the last known leader, agent-1 at http://10.0.0.1:4000, stopped answering during the request (socket hang up), so it may or may not have been carried out');
  });

  it('names the agents a request went round', () => {
    const error = noLeaderError({ agentId: 'agent-4', leader, silentForMs: 100, reason: { kind: 'loop', path: ['agent-4', 'agent-2'] } });
    expect(error.message).toContain('this request went round agents agent-4 -> agent-2 -> agent-4');
  });
});

describe('noLeaderBody', () => {
  const error = noLeaderError({ agentId: 'agent-4', leader, silentForMs: 1_000, reason: { kind: 'unreachable', error: 'ECONNREFUSED' } });

  it('answers /graphql as GraphQL errors, which GraphQL clients read', () => {
    expect(JSON.parse(noLeaderBody('/graphql', error))).toEqual({
      errors: [{ message: error.message, extensions: { code: 'NO_LEADER', nodeId: 'agent-4', details: error.details } }],
    });
  });

  it('answers other paths as the REST API answers its errors', () => {
    expect(JSON.parse(noLeaderBody('/log/abc', error))).toEqual({ error: { message: error.message, code: 'NO_LEADER', nodeId: 'agent-4', details: error.details } });
  });
});
