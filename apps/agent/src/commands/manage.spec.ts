import { ErrorCode, KrakenError } from '@kraken/common';
import type { ApiClient } from '../client/api-client.js';
import { ExitCode, exitCodeOf } from '../client/exit-codes.js';
import { Queries } from '../client/queries.js';
import { removeCommand, statusCommand } from './manage.js';

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

  it('counts crash-looping and not answering apps apart from the steady running ones', async () => {
    const deployments = [
      { id: 'a', status: 'RUNNING', crashLooping: false, ready: true },
      { id: 'b', status: 'RUNNING', crashLooping: true, ready: true },
      { id: 'c', status: 'RUNNING', crashLooping: false, ready: true },
      { id: 'd', status: 'ERRORED', crashLooping: true, ready: true },
      { id: 'e', status: 'RUNNING', crashLooping: false, ready: false },
    ];
    const client = { url: 'http://127.0.0.1:4000', leader: undefined, graphql: () => Promise.resolve({ ...view, getPlatform: { ...view.getPlatform, deployments } }) } as unknown as ApiClient;
    const out: string[] = [];
    await statusCommand(client, { json: false }, { out: (line) => out.push(line), err: () => undefined });
    expect(out).toContain('deployments   2 running, 1 running, crash-looping, 1 errored, 1 running, not answering');
    expect(out).toContain('nodes         1 alive');
  });

  it('shows the API alone when it is the leader that answered', async () => {
    const out: string[] = [];
    await statusCommand(clientOf(undefined), { json: false }, { out: (line) => out.push(line), err: () => undefined });
    expect(out[0]).toBe('api           http://127.0.0.1:4000');
  });
});

describe('kraken rm', () => {
  const removed = { removeDeployment: { id: 'blog-1a2b3c', status: 'ERRORED', removedAt: 1_764_072_000.5 } };
  const asked: { query: string; variables: unknown }[] = [];
  const client = {
    graphql: (query: string, variables: unknown) => {
      asked.push({ query, variables });
      return Promise.resolve(removed);
    },
  } as unknown as ApiClient;

  it('removes the deployment through the API and says its log stays readable', async () => {
    const out: string[] = [];
    await expect(removeCommand(client, { id: 'blog-1a2b3c', json: false }, { out: (line) => out.push(line), err: () => undefined })).resolves.toBe(ExitCode.Ok);
    expect(asked.at(-1)).toEqual({ query: Queries.removeDeployment, variables: { id: 'blog-1a2b3c' } });
    expect(out).toEqual(['removed blog-1a2b3c (errored); its log stays readable with kraken logs blog-1a2b3c for a while']);
    const json: string[] = [];
    await removeCommand(client, { id: 'blog-1a2b3c', json: true }, { out: (line) => json.push(line), err: () => undefined });
    expect(JSON.parse(json.join(''))).toEqual({ id: 'blog-1a2b3c', removed: true, status: 'ERRORED', removedAt: 1_764_072_000.5 });
  });

  it("passes on the API's refusal of a running deployment, which exits 1", async () => {
    const refusal = new KrakenError(ErrorCode.Conflict, 'deployment blog-1a2b3c is Running: only a Destroyed or Errored deployment can be removed; cancel it first');
    const refusing = { graphql: () => Promise.reject(refusal) } as unknown as ApiClient;
    const failure = await removeCommand(refusing, { id: 'blog-1a2b3c', json: false }, { out: () => undefined, err: () => undefined }).catch((error: unknown) => error);
    expect(failure).toBe(refusal);
    expect(exitCodeOf(failure)).toBe(ExitCode.Failed);
  });
});
