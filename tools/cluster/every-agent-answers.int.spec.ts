// Issue 13, item 6: every agent answers the API and the UI. An agent that does not lead forwards
// HTTP and WebSocket requests to the leader (authentication included, for the leader to check) and
// marks the answers with X-Kraken-Leader; after the leader's host dies, the same agent forwards to
// the standby that took over. Four hosts in network namespaces, each agent with its own RabbitMQ
// node where it may lead; nothing mocked.
import type { IncomingMessage } from 'node:http';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { eventually } from '@kraken/testing';
import { ApiClient, collect } from '../e2e/support/api-client.js';
import type { ClusterHarness } from './harness.js';
import { startClusterHarness } from './harness.js';

interface Platform {
  getPlatform: { orchestrator: string; epoch: number };
  getNodes: { id: string }[];
}
const PLATFORM = 'query { getPlatform { orchestrator epoch } getNodes { id } }';

/** One answer to a GraphQL query, with the header that names the leader a forwarding agent sent it to. */
interface Answer {
  status: number;
  leader: string | null;
  body: { data?: Platform; errors?: { message: string; extensions?: { code?: string; details?: { lastKnownLeader?: { nodeId?: string } | null } } }[] };
}

describe('every agent answers the API and the UI', () => {
  let cluster: ClusterHarness;
  let token: string;
  let browser: Browser | undefined;
  const clients: ApiClient[] = [];
  const api = (index: number) => cluster.agents[index]?.apiUrl ?? '';
  const leaderHeader = (index: number) => `agent-${String(index)} ${api(index)}`;
  const client = (index: number) => {
    const made = new ApiClient(api(index), token);
    clients.push(made);
    return made;
  };
  const platform = async (index: number, authorization = `Bearer ${token}`): Promise<Answer> => {
    const response = await fetch(`${api(index)}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: PLATFORM }),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, leader: response.headers.get('x-kraken-leader'), body: (await response.json()) as Answer['body'] };
  };
  /** The 101 of a graphql-ws upgrade through agent `index`: its headers. */
  const upgradeHeaders = (index: number) =>
    new Promise<IncomingMessage['headers']>((resolve, reject) => {
      const socket = new WebSocket(`${api(index).replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
      socket.once('upgrade', (response) => {
        resolve(response.headers);
        socket.close();
      });
      socket.once('error', reject);
    });

  beforeAll(async () => {
    cluster = await startClusterHarness({ hosts: 4, name: 'kf', managedBroker: true });
    // 1 leads, 2 and 3 are standbys, 4 never leads (a plain worker)
    const agents = [0, 1, 1, 2].map((priority, i) => cluster.start(i + 1, ['--priority', String(priority)]));
    await Promise.all(agents.map((agent) => agent.process.waitFor(/agent running/, 240_000)));
    // a standby can take over once the RabbitMQ cluster survives losing the leader's node
    await cluster.agents[1]?.process.waitFor(/the RabbitMQ cluster now survives losing a node/, 120_000);
    token = await cluster.apiToken();
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    for (const made of clients) await made.close();
    await cluster.destroy();
  }, 120_000);

  it("answers through agents that do not lead with the leader's data: GraphQL, REST, the UI and a subscription", async () => {
    for (const index of [2, 3, 4]) await cluster.agents[index]?.process.waitFor(/answering the API and UI by forwarding to the leader/, 30_000);
    const direct = await platform(1);
    expect(direct.leader).toBeNull();
    expect(direct.body.data?.getPlatform.orchestrator).toBe('agent-1');
    for (const index of [2, 4]) {
      const forwarded = await platform(index);
      expect(forwarded.status).toBe(200);
      expect(forwarded.leader).toBe(leaderHeader(1));
      expect(forwarded.body.data?.getPlatform).toEqual(direct.body.data?.getPlatform);
      expect(forwarded.body.data?.getNodes.map((node) => node.id).sort()).toEqual(['agent-1', 'agent-2', 'agent-3', 'agent-4']);
    }
    // the token goes through unchanged and the leader checks it
    const refused = await platform(4, 'Bearer not-the-token');
    expect(refused.status).toBe(401);
    expect(refused.leader).toBe(leaderHeader(1));

    // REST: the leader's own view of node agent-4
    const health = await client(4).get('/health/agent-4');
    expect(health.status).toBe(200);
    expect(health.headers.get('x-kraken-leader')).toBe(leaderHeader(1));
    expect(await health.json()).toMatchObject({ nodeId: 'agent-4', leader: 'agent-1', epoch: direct.body.data?.getPlatform.epoch });

    // the UI comes from the leader, byte for byte
    const page = await fetch(`${api(4)}/index.html`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toBe(await (await fetch(`${api(1)}/index.html`)).text());

    // a subscription over WebSocket: heartbeats come as nodeChanged events from the leader
    expect((await upgradeHeaders(4))['x-kraken-leader']).toBe(leaderHeader(1));
    const nodes = collect<{ nodeChanged: { id: string } }>(client(4).socket(), 'subscription { nodeChanged { id } }');
    await nodes.until((events) => events.some((event) => event.nodeChanged.id === 'agent-4'), 'a nodeChanged event of agent-4 through agent-4', 30_000);
    nodes.stop();

    // the CLI pointed at a worker's machine: kraken status says who answered
    const status = await cluster.kraken(4, ['status', '--api', api(4), '--token', token]);
    expect(status.stdout).toContain(`api           ${api(4)} (this agent forwards to the leader agent-1 at ${api(1)})`);
    expect(status.stdout).toMatch(/failover\s+up: leader agent-1; standbys: agent-2, agent-3/);
  }, 120_000);

  it("forwards to the standby that took over once the leader's host died, and says 503 NO_LEADER meanwhile", async () => {
    // a subscription through agent-4 ends with the leader; the agent closes it rather than hang
    const before = collect<{ nodeChanged: { id: string } }>(client(4).socket(), 'subscription { nodeChanged { id } }');
    await before.until((events) => events.length > 0, 'a nodeChanged event before the kill', 30_000);

    // a browser on the UI through agent-4, live (the token as the page keeps it after the token dialog)
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // agent-4 serves its certificate from the cluster CA, which this fresh browser profile does not
    // trust (a user would import what `kraken ca` prints, or accept the warning once)
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, ignoreHTTPSErrors: true });
    await page.addInitScript(`window.localStorage.setItem('kraken.apiToken', ${JSON.stringify(token)})`);
    // what the page went through, printed if it does not follow the leader
    const seen: string[] = [];
    page.on('console', (message) => seen.push(`${new Date().toISOString()} console ${message.type()}: ${message.text()}`));
    page.on('websocket', (socket) => {
      seen.push(`${new Date().toISOString()} websocket open ${socket.url()}`);
      socket.on('close', () => seen.push(`${new Date().toISOString()} websocket closed`));
      socket.on('socketerror', (error) => seen.push(`${new Date().toISOString()} websocket error ${error}`));
      socket.on('framesent', (frame) => seen.push(`${new Date().toISOString()} sent ${String(frame.payload).slice(0, 80)}`));
      socket.on('framereceived', (frame) => seen.push(`${new Date().toISOString()} received ${String(frame.payload).slice(0, 80)}`));
    });
    // the page's live badge; what the page went through is printed when it does not get there
    const live = async (when: string) => {
      await page.getByTestId('live-state').getByText('live').waitFor({ timeout: 30_000 }).catch(async (error: unknown) => {
        process.stderr.write(`[every-agent-answers] the page was not live ${when}; live state ${String(await page.getByTestId('live-state').textContent())}\n${seen.join('\n')}\n`);
        throw error;
      });
    };
    await page.goto(`${api(4)}/`);
    await live('before the kill');

    const killedAt = Date.now();
    await cluster.killHost(1);
    const gap: Answer[] = [];
    const answered = await eventually(
      async () => {
        const answer = await platform(4);
        if (answer.status !== 200) gap.push(answer);
        return answer.status === 200 && answer.body.data?.getPlatform.orchestrator !== 'agent-1' && answer;
      },
      90_000,
      'agent-4 forwarding to a new leader',
      200,
    );
    process.stderr.write(`[every-agent-answers] agent-4 answered from the new leader ${String(Date.now() - killedAt)} ms after the leader's host died\n`);
    const leader = answered.body.data?.getPlatform.orchestrator ?? '';
    expect(['agent-2', 'agent-3']).toContain(leader);
    const index = Number(leader.slice('agent-'.length));
    expect(answered.leader).toBe(leaderHeader(index));
    // the new leader answers itself, on the port it forwarded on before
    expect((await platform(index)).leader).toBeNull();

    // during the takeover every refusal said why, naming the leader last known: the dead one, or
    // the successor once it announced itself, before its API answered
    for (const refusal of gap) {
      expect(refusal.status).toBe(503);
      const [error] = refusal.body.errors ?? [];
      expect(error?.extensions?.code).toBe('NO_LEADER');
      expect(error?.message).toMatch(/^the cluster has no reachable leader right now/);
      expect(['agent-1', leader]).toContain(error?.extensions?.details?.lastKnownLeader?.nodeId);
    }
    expect(gap[0]?.body.errors?.[0]?.extensions?.details?.lastKnownLeader?.nodeId).toBe('agent-1');
    await expect(before.until(() => false, 'the subscription through agent-4 to end with its leader', 30_000)).rejects.toThrow(/subscription failed/);

    // the page follows on its own: it says where the leader moved and is live again through agent-4
    const notice = page.getByTestId('leader-moved');
    await notice.waitFor({ timeout: 60_000 }).catch(async (error: unknown) => {
      process.stderr.write(`[every-agent-answers] the page did not say where the leader moved; live state ${String(await page.getByTestId('live-state').textContent())}\n${seen.join('\n')}\n`);
      throw error;
    });
    expect(await notice.textContent()).toContain(`The leader moved: ${leader} leads the cluster now (agent-1 did before).`);
    await live('after saying where the leader moved');

    // the other standby forwards to the new leader as well
    const other = index === 2 ? 3 : 2;
    expect((await eventually(async () => { const answer = await platform(other); return answer.status === 200 && answer; }, 30_000, `agent-${String(other)} answering`)).leader).toBe(leaderHeader(index));

    // REST, a new subscription and the CLI through agent-4 reach the new leader
    const health = await client(4).get('/health/agent-4');
    expect(await health.json()).toMatchObject({ leader });
    expect((await upgradeHeaders(4))['x-kraken-leader']).toBe(leaderHeader(index));
    const after = collect<{ nodeChanged: { id: string } }>(client(4).socket(), 'subscription { nodeChanged { id } }');
    await after.until((events) => events.some((event) => event.nodeChanged.id === 'agent-4'), 'a nodeChanged event from the new leader', 30_000);
    after.stop();
    const listed = await cluster.kraken(4, ['nodes', '--json', '--api', api(4), '--token', token]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((node) => node.id)).toContain('agent-4');
  }, 240_000);
});
