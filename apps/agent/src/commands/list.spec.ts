import type { ApiClient } from '../client/api-client.js';
import type { NodeView } from '../client/queries.js';
import { nodesCommand } from './list.js';

const node = (id: string, extensions: NodeView['extensions']): NodeView => ({
  id,
  hostname: id,
  addr: '10.0.0.5',
  state: 'ALIVE',
  runtimes: ['docker'],
  ramFree: 2048,
  ramUsed: 1024,
  loadAvg5: 0.5,
  orchestrationPriority: null,
  deployments: [],
  extensions,
});

// only the one GraphQL call the command makes; the API itself is covered by the integration tests
const clientAnswering = (nodes: NodeView[]): ApiClient => ({ graphql: () => Promise.resolve({ getNodes: nodes }) }) as unknown as ApiClient;

async function nodesTable(nodes: NodeView[]): Promise<string[]> {
  const out: string[] = [];
  await nodesCommand(clientAnswering(nodes), { json: false }, { out: (line) => out.push(line), err: () => undefined });
  return out.join('\n').split('\n');
}

describe('kraken nodes', () => {
  it('shows custom agents\' readings in an EXTRA column as key=value', async () => {
    const [header, plain, custom] = await nodesTable([node('pi-1', []), node('pi-2', [{ key: 'temperature.celsius', value: '47.5' }, { key: 'temperature.zone', value: 'cpu' }])]);
    expect(header).toMatch(/ROLE\s+EXTRA$/);
    expect(plain).toMatch(/worker\s+-$/);
    expect(custom).toMatch(/worker\s+temperature\.celsius=47\.5 temperature\.zone=cpu$/);
  });

  it('leaves the EXTRA column out when no node sends readings', async () => {
    const [header] = await nodesTable([node('pi-1', [])]);
    expect(header).toMatch(/ROLE$/);
  });
});
