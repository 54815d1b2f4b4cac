import type { ApiClient } from '../client/api-client.js';
import type { DeploymentView, NodeView } from '../client/queries.js';
import { listCommand, nodesCommand } from './list.js';

const node = (id: string, extensions: NodeView['extensions']): NodeView => ({
  id,
  hostname: id,
  addr: '10.0.0.5',
  state: 'ALIVE',
  runtimes: ['docker'],
  isolation: 'container, limits',
  ramFree: 2048,
  ramUsed: 1024,
  loadAvg5: 0.5,
  orchestrationPriority: null,
  deployments: [],
  extensions,
  noticeLossAfterMs: 4045,
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

  it('shows each node\'s runtime and what it enforces, and "none" for a node without a working runtime', async () => {
    const laptop: NodeView = { ...node('laptop', []), runtimes: ['process'], isolation: "runs as the agent's user, no limits" };
    const engineDown: NodeView = { ...node('pi-3', []), runtimes: [] };
    const older: NodeView = { ...node('pi-4', []), isolation: null };
    const [header, docker, processNode, down, old] = await nodesTable([node('pi-1', []), laptop, engineDown, older]);
    expect(header).toMatch(/ADDRESS\s+RUNTIME\s+RAM FREE/);
    expect(docker).toContain('docker: container, limits');
    expect(processNode).toContain("process: runs as the agent's user, no limits");
    expect(down).toMatch(/10\.0\.0\.5\s+none\s+2048 MB/);
    expect(old).toMatch(/10\.0\.0\.5\s+docker\s+2048 MB/);
  });

  it('shows the silence after which each node is declared dead, or - before the leader heard it', async () => {
    const [header, heard, unheard] = await nodesTable([node('pi-1', []), { ...node('pi-2', []), noticeLossAfterMs: null }]);
    expect(header).toMatch(/^ID\s+STATE\s+DEAD AFTER\s+ADDRESS/);
    expect(heard).toMatch(/^pi-1\s+alive\s+4\.0 s\s+10\.0\.0\.5/);
    expect(unheard).toMatch(/^pi-2\s+alive\s+-\s+10\.0\.0\.5/);
  });

  it('leaves the EXTRA column out when no node sends readings', async () => {
    const [header] = await nodesTable([node('pi-1', [])]);
    expect(header).toMatch(/ROLE$/);
  });
});

describe('kraken ls', () => {
  const deployment = (patch: Partial<DeploymentView>): DeploymentView => ({
    id: 'hello-3f6b2c',
    srcUrl: 'https://git.lan/hello.git',
    gitBranch: 'main',
    commit: '0123456789abcdef',
    port: '20001',
    status: 'RUNNING',
    statusMessage: null,
    deploymentUrl: 'http://10.0.0.6:20001',
    name: 'hello',
    appUrl: 'http://hello.local',
    node: 'pi-2',
    placementReason: null,
    watch: false,
    statusHistory: [],
    ...patch,
  });

  it("shows each app's lasting URL (its name through the ingress) and where its instance answers now", async () => {
    const out: string[] = [];
    const client = { graphql: () => Promise.resolve({ getDeployments: [deployment({}), deployment({ id: 'adopted-1', name: null, appUrl: null, deploymentUrl: null })] }) } as unknown as ApiClient;
    await listCommand(client, { json: false }, { out: (line) => out.push(line), err: () => undefined });
    const [header, named, adopted] = out.join('\n').split('\n');
    expect(header).toMatch(/^ID\s+STATUS\s+NODE\s+URL\s+INSTANCE\s+BRANCH\s+COMMIT$/);
    expect(named).toMatch(/running\s+pi-2\s+http:\/\/hello\.local\s+http:\/\/10\.0\.0\.6:20001\s+main\s+01234567$/);
    expect(adopted).toMatch(/pi-2\s+-\s+-\s+main/);
  });
});
