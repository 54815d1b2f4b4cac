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
  ramTotal: 3072,
  loadAvg5: 0.5,
  cpuPercent: 12.4,
  diskUsedMb: 12_595,
  diskTotalMb: 59_392,
  orchestrationPriority: null,
  deployments: [],
  extensions,
  noticeLossAfterMs: 4045,
  reachable: false,
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

  it('says a suspect node is reachable when its pulses arrive (it keeps its apps)', async () => {
    const [, stalled, silent] = await nodesTable([
      { ...node('pi-1', []), state: 'SUSPECT', reachable: true },
      { ...node('pi-2', []), state: 'SUSPECT', reachable: false },
    ]);
    expect(stalled).toMatch(/^pi-1\s+suspect, reachable\s+4\.0 s/);
    expect(silent).toMatch(/^pi-2\s+suspect\s+4\.0 s/);
  });

  it('shows CPU busy percent and disk use, and - from an agent that does not report them', async () => {
    const [header, current, older] = await nodesTable([node('pi-1', []), { ...node('pi-2', []), cpuPercent: null, diskUsedMb: null, diskTotalMb: null }]);
    expect(header).toMatch(/LOAD\s+CPU\s+DISK\s+APPS/);
    expect(current).toMatch(/0\.50\s+12%\s+12\.3\/58\.0 GB \(21%\)\s+0/);
    expect(older).toMatch(/0\.50\s+-\s+-\s+0/);
  });

  it('leaves the EXTRA column out when no node sends readings', async () => {
    const [header] = await nodesTable([node('pi-1', [])]);
    expect(header).toMatch(/ROLE$/);
  });
});

const deployment = (id: string, fields: Partial<DeploymentView> = {}): DeploymentView => ({
  id,
  srcUrl: 'https://git.lan/shop.git',
  gitBranch: 'main',
  commit: 'a'.repeat(40),
  port: '20001',
  status: 'RUNNING',
  statusMessage: null,
  deploymentUrl: 'http://10.0.0.5:20001',
  name: id.replace(/-\d+$/, ''),
  appUrl: `http://${id.replace(/-\d+$/, '')}.local`,
  node: 'pi-1',
  placementReason: null,
  failover: null,
  watch: false,
  statusHistory: [],
  crashLooping: false,
  restartCount: 0,
  lastExit: null,
  ready: true,
  notReadySince: null,
  ...fields,
});

async function listOutput(deployments: DeploymentView[]): Promise<string[]> {
  const out: string[] = [];
  const client = { graphql: () => Promise.resolve({ getDeployments: deployments }) } as unknown as ApiClient;
  await listCommand(client, { json: false }, { out: (line) => out.push(line), err: () => undefined });
  return out.join('\n').split('\n');
}

describe('kraken ls', () => {
  it("shows each app's lasting URL (its name through the ingress) and where its instance answers now", async () => {
    const [header, named, adopted] = await listOutput([
      deployment('hello-1', { deploymentUrl: 'http://10.0.0.6:20001', commit: '0123456789abcdef', failover: { node: 'pi-2', commit: '0123456789abcdef', state: 'ready', message: null } }),
      deployment('adopted-1', { name: null, appUrl: null, deploymentUrl: null }),
    ]);
    expect(header).toMatch(/^ID\s+STATUS\s+RESTARTS\s+NODE\s+URL\s+INSTANCE\s+BRANCH\s+COMMIT\s+FAILOVER$/);
    expect(named).toMatch(/running\s+0\s+pi-1\s+http:\/\/hello\.local\s+http:\/\/10\.0\.0\.6:20001\s+main\s+01234567\s+pi-2 ready$/);
    expect(adopted).toMatch(/pi-1\s+-\s+-\s+main\s+aaaaaaaa\s+-$/);
  });

  it('shows a crash-looping app as such, with its restarts and how it last ended', async () => {
    const crashing = deployment('shop-1', {
      crashLooping: true,
      restartCount: 3,
      lastExit: { code: 1, signal: null, time: Date.parse('2026-12-06T12:00:03.000Z') / 1000, reason: 'exited with code 1 after 3.0 s' },
    });
    const [header, steady, looping, note] = await listOutput([deployment('blog-1', { restartCount: 1 }), crashing]);
    expect(header).toMatch(/^ID\s+STATUS\s+RESTARTS\s+NODE/);
    expect(steady).toMatch(/^blog-1\s+running\s+1\s+pi-1/);
    expect(looping).toMatch(/^shop-1\s+running, crash-looping\s+3\s+pi-1/);
    expect(note).toBe('shop-1: crash-looping: 3 restarts, last exited with code 1 after 3.0 s at 2026-12-06T12:00:03.000Z');
  });

  it('shows a running app that does not answer as such, saying since when and that the ingress sends it nothing', async () => {
    const hung = deployment('shop-1', { ready: false, notReadySince: Date.parse('2026-12-07T03:00:05.000Z') / 1000 });
    const [, steady, notAnswering, note] = await listOutput([deployment('blog-1'), hung]);
    expect(steady).toMatch(/^blog-1\s+running\s+0\s+pi-1/);
    expect(notAnswering).toMatch(/^shop-1\s+running, not answering\s+0\s+pi-1/);
    expect(note).toBe('shop-1: not answering since 2026-12-07T03:00:05.000Z: the ingress sends it nothing until it answers');
  });

  it('shows an app stopped for crash-looping as errored, without a crash-looping note', async () => {
    const lines = await listOutput([deployment('shop-1', { status: 'ERRORED', crashLooping: true, restartCount: 5 })]);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^shop-1\s+errored\s+5/);
  });
});
