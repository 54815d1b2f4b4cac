import type { ApiClient } from '../client/api-client.js';
import { statusCommand } from './manage.js';

const view = {
  getPlatform: { orchestrator: 'agent-1', epoch: 3, nodes: [{ id: 'agent-1', state: 'ALIVE' }], deployments: [] },
  getPlatformServices: [{ name: 'failover', status: 'up', detail: 'leader agent-1; standbys: agent-2, agent-3 (one takes over if the leader fails)' }],
};
const clientOf = (leader: { nodeId: string; apiUrl: string } | undefined): ApiClient =>
  ({ url: 'http://127.0.0.1:4000', leader, graphql: () => Promise.resolve(view) }) as unknown as ApiClient;

describe('kraken status', () => {
  it('says when the agent it asked forwarded to the leader, and which leader answered', async () => {
    const out: string[] = [];
    await statusCommand(clientOf({ nodeId: 'agent-1', apiUrl: 'http://10.0.0.1:4000' }), { json: false }, { out: (line) => out.push(line), err: () => undefined });
    expect(out[0]).toBe('api           http://127.0.0.1:4000 (this agent forwards to the leader agent-1 at http://10.0.0.1:4000)');
    const json: string[] = [];
    await statusCommand(clientOf({ nodeId: 'agent-1', apiUrl: 'http://10.0.0.1:4000' }), { json: true }, { out: (line) => json.push(line), err: () => undefined });
    expect(JSON.parse(json.join('\n'))).toMatchObject({ api: 'http://127.0.0.1:4000', forwardedTo: { nodeId: 'agent-1', apiUrl: 'http://10.0.0.1:4000' } });
  });

  it('counts crash-looping apps apart from the steady running ones', async () => {
    const deployments = [
      { id: 'a', status: 'RUNNING', crashLooping: false },
      { id: 'b', status: 'RUNNING', crashLooping: true },
      { id: 'c', status: 'RUNNING', crashLooping: false },
      { id: 'd', status: 'ERRORED', crashLooping: true },
    ];
    const client = { url: 'http://127.0.0.1:4000', leader: undefined, graphql: () => Promise.resolve({ ...view, getPlatform: { ...view.getPlatform, deployments } }) } as unknown as ApiClient;
    const out: string[] = [];
    await statusCommand(client, { json: false }, { out: (line) => out.push(line), err: () => undefined });
    expect(out).toContain('deployments   2 running, 1 running, crash-looping, 1 errored');
    expect(out).toContain('nodes         1 alive');
  });

  it('shows the API alone when it is the leader that answered', async () => {
    const out: string[] = [];
    await statusCommand(clientOf(undefined), { json: false }, { out: (line) => out.push(line), err: () => undefined });
    expect(out[0]).toBe('api           http://127.0.0.1:4000');
  });
});
