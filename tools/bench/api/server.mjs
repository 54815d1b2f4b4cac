// The server half of tools/bench/api/run.mjs, run as a child process so the load generator does
// not share its event loop. It stores --deployments deployments (each with a realistic status
// history) in an OrchestratorStore in --data-dir, then serves, from the same store in the same
// process:
//   - the real API (createApiServer on an Orchestrator with a MemoryBroker) on one port;
//   - a bare express endpoint, POST /deployments, that reads the same rows through the store's
//     public methods and answers the same JSON document the GraphQL query returns.
// It sends { ready, apiUrl, bareUrl, token } to the parent over IPC, answers 'cpu' with its
// process.cpuUsage(), and exits when the parent disconnects or sends 'stop'.
import { parseArgs } from 'node:util';
import express from 'express';
import { MemoryBroker } from '@kraken/broker';
import { DataKey, Orchestrator, OrchestratorStore, createApiServer } from '@kraken/orchestrator';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    deployments: { type: 'string', default: '1000' },
    nodes: { type: 'string', default: '3' },
  },
});
const dataDir = values['data-dir'];
const deploymentCount = Number(values.deployments);
const nodeCount = Number(values.nodes);
if (dataDir === undefined) throw new Error('server.mjs needs --data-dir');

const TOKEN = 'bench-token-0123456789';
// what the worker and the orchestrator record for one deployment that reached Running
const WORKER_STEPS = [
  'ValidatingDeploymentData',
  'RetrievingApplicationData',
  'BuildingDeployment',
  'TestingDeployment',
  'Deploying',
];

function nodeInfo(nodeId, index) {
  return {
    nodeId,
    hostname: `${nodeId}.lan`,
    addresses: [`192.168.1.${10 + index}`],
    arch: 'x64',
    cpu: { model: 'Intel(R) Celeron(R) N5105 @ 2.00GHz', cores: 4 },
    ram: { freeMb: 6000, usedMb: 2000, totalMb: 8000 },
    load: { m1: 0.3, m5: 0.25, m15: 0.2 },
    uptimeSec: 86_400,
    runtimes: ['docker'],
    deployments: [],
    protocolVersion: 1,
  };
}

function seed(store) {
  // one transaction: one fsync for the whole seed instead of one per status
  store.snapshot(() => {
    const nodes = Array.from({ length: nodeCount }, (_, i) => store.nodes.upsert(nodeInfo(`node-${i + 1}`, i), 'alive').id);
    const start = Date.parse('2025-01-01T00:00:00.000Z');
    for (let i = 0; i < deploymentCount; i++) {
      const id = `app-${String(i).padStart(4, '0')}-${((i * 2654435761) % 0xffffff).toString(16).padStart(6, '0')}`;
      const nodeId = nodes[i % nodes.length];
      const port = 20000 + i;
      store.deployments.create({
        id,
        srcUrl: `https://git.home.lan/team/app-${i}.git`,
        branch: 'main',
        env: { NODE_ENV: 'production' },
      });
      let at = start + i * 60_000;
      const next = () => new Date((at += 1500)).toISOString();
      store.deployments.setStatus(
        id,
        'DelegatingDeployment',
        { message: `placed on ${nodeId}`, nodeId: 'orchestrator', at: next() },
        { nodeId, port, placementReason: `${nodeId}: most headroom` },
      );
      for (const status of WORKER_STEPS) store.deployments.setStatus(id, status, { nodeId, at: next() });
      store.deployments.setStatus(id, 'Running', {
        nodeId,
        at: next(),
        commit: (i * 40503).toString(16).padStart(40, 'a'),
        port,
        url: `http://192.168.1.10:${port}`,
      });
      store.deployments.updateStats(id, { cpuPercent: 1.5, memMb: 60, maxMemMb: 256, imageSizeMb: 180 });
    }
  });
}

const enumName = (status) => status.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * The bare baseline: what a hand-written endpoint does per request, with no GraphQL: read the
 * records and histories through the store's public methods, shape them as the query does (enum
 * names, Unix-second times) and send them as JSON.
 */
function bareApp(store) {
  const app = express();
  app.disable('x-powered-by');
  // as the API does: an ETag would hash every 500 KB answer, which is no part of reading the data
  app.set('etag', false);
  app.post('/deployments', express.json(), (_req, res) => {
    const deployments = store.deployments.list();
    const histories = store.deployments.histories(deployments.map((d) => d.id));
    res.json({
      data: {
        getDeployments: deployments.map((d) => ({
          id: d.id,
          srcUrl: d.srcUrl,
          status: enumName(d.status),
          statusHistory: (histories.get(d.id) ?? []).map((h) => ({ status: enumName(h.status), time: Date.parse(h.at) / 1000 })),
          deploymentUrl: d.url,
          node: d.nodeId,
        })),
        getNodes: store.nodes.list().map((n) => ({ id: n.id, addr: n.info.addresses[0] ?? null })),
      },
    });
  });
  return app;
}

// the store seals env values with the cluster's data key: a fresh one, as a new cluster would make
const store = OrchestratorStore.open({ dataDir, dataKey: DataKey.generate('the api bench') });
seed(store);
const broker = new MemoryBroker();
const orchestrator = await Orchestrator.create({ broker, store, nodeId: 'orchestrator', options: { tickIntervalMs: 0 } });
const api = await createApiServer({ orchestrator, store, token: TOKEN });
const { url: apiUrl } = await api.listen(0, '127.0.0.1');
const bare = await new Promise((resolve, reject) => {
  const server = bareApp(store).listen(0, '127.0.0.1', () => resolve(server));
  server.on('error', reject);
});
const bareUrl = `http://127.0.0.1:${bare.address().port}`;

let stopping;
const stop = () => {
  stopping ??= (async () => {
    await api.close();
    await new Promise((resolve) => bare.close(resolve));
    bare.closeAllConnections?.();
    await orchestrator.close();
    await broker.close();
    store.close();
    process.exit(0);
  })();
};
process.on('message', (message) => {
  if (message === 'stop') stop();
  // CPU time is what a request costs the server, whatever else the machine is doing
  else if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
});
process.on('disconnect', stop);
process.send({ ready: true, apiUrl, bareUrl, token: TOKEN, deployments: store.deployments.list().length });
