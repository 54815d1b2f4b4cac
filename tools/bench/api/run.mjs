#!/usr/bin/env node
// Latency and rate of the orchestrator API's getDeployments query, with 1,000 deployments stored,
// against a bare express JSON endpoint that returns the same document from the same store, in
// the same run and the same server process (./server.mjs, a child process so the load generator
// does not share its event loop). Both sides get the same load: a fixed number of clients, each
// sending its next request as soon as the previous answer has been read, for a fixed time.
//
//   NX_DAEMON=false npx nx run orchestrator:build && node tools/bench/api/run.mjs [--concurrency 1] [--seconds 10] [--smoke]
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { median, parseFlags, verdict } from '../lib.mjs';

const HELP = `Usage: node tools/bench/api/run.mjs [options]

Stores N deployments (each with 8 status history entries) in an OrchestratorStore in a temp dir,
serves the real API (createApiServer, Orchestrator on a MemoryBroker) and a bare express endpoint
returning the same JSON from the same store, and drives each with the same closed-loop load.
Query (the original Kraken client's):
  query { getDeployments { id srcUrl status statusHistory { status time } deploymentUrl node } getNodes { id addr } }
Prints requests/s, p50 and p99 latency and the server's CPU time per request, per round and
side, then the medians and the ratios. CPU per request does not depend on what else the machine
is doing; rates and latencies do, so compare those only within one run.
Build first: NX_DAEMON=false npx nx run orchestrator:build

Options:
  --deployments N     deployments stored (default 1000)
  --concurrency N     clients sending requests back to back, on each side (default 1: the p99
                      target is per request; with N clients each waits for the N-1 answers ahead
                      of it on the one server thread)
  --seconds S         measured time per round and side (default 10)
  --warmup S          unmeasured time per side before the rounds (default 3)
  --rounds N          rounds, alternating which side goes first (default 3)
  --smoke             one short round per side (100 deployments, 1 s each) that proves the bench
                      works end to end and prints its ratios without judging them (what CI runs)
  --help              this text`;

const { numbers, smoke } = parseFlags(
  HELP,
  {
    deployments: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
  {
    positive: ['deployments', 'concurrency', 'seconds', 'rounds'],
    nonNegative: ['warmup'],
    smoke: { deployments: '100', seconds: '1', warmup: '1', rounds: '1' },
  },
);
const { deployments, concurrency, seconds, warmup: warmupSeconds, rounds } = numbers;

const TARGET_RATE_RATIO = 0.5;
const TARGET_P99_MS = 20;
const QUERY =
  'query { getDeployments { id srcUrl status statusHistory { status time } deploymentUrl node } getNodes { id addr } }';

/** Starts server.mjs and waits for its URLs. */
function startServer(dataDir) {
  const child = fork(
    path.join(import.meta.dirname, 'server.mjs'),
    ['--data-dir', dataDir, '--deployments', String(deployments)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code} before it was ready`)));
  });
  return { child, ready };
}

function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(kill));
}

/**
 * One side of the comparison: how to send the request over keep-alive sockets. Each measured run
 * gets fresh sockets (`reset`): a socket left idle through the other side's run may have been
 * closed by the server's keep-alive timeout, and reusing it would fail with a hang-up.
 */
function side(name, url, headers, body) {
  const target = new URL(url);
  let agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const payload = Buffer.from(body);
  const reset = () => {
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  };
  const request = () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            if (res.statusCode !== 200)
              reject(new Error(`${name}: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
            else resolve(Buffer.concat(chunks));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { name, request, reset, close: () => agent.destroy() };
}

/** The server's CPU time so far, in ms (user + system). */
function serverCpuMs(child) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.cpu === undefined) return;
      child.off('message', onMessage);
      resolve((message.cpu.user + message.cpu.system) / 1000);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

/** `concurrency` clients, each sending its next request when the previous answer is read. */
async function drive(target, durationMs, child) {
  target.reset();
  const cpuBefore = await serverCpuMs(child);
  const latencies = [];
  const started = performance.now();
  const deadline = started + durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await target.request();
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = performance.now() - started;
  const cpuMs = (await serverCpuMs(child)) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return {
    rate: latencies.length / (elapsed / 1000),
    p50: pct(50),
    p99: pct(99),
    cpu: cpuMs / latencies.length,
    requests: latencies.length,
  };
}

const fmt = (r) =>
  `${r.rate.toFixed(1).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  ` +
  `server CPU ${r.cpu.toFixed(2).padStart(6)} ms/request  (${r.requests} requests)`;

let exitCode = 0;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kraken-bench-api-'));
const { child, ready } = startServer(dataDir);
const sides = [];
try {
  const server = await ready;
  const graphql = side(
    'graphql',
    `${server.apiUrl}/graphql`,
    { authorization: `Bearer ${server.token}` },
    JSON.stringify({ query: QUERY }),
  );
  const bare = side('bare', `${server.bareUrl}/deployments`, {}, JSON.stringify({ query: QUERY }));
  sides.push(graphql, bare);

  // the comparison only means something if both answer the same document
  const [fromGraphql, fromBare] = await Promise.all([graphql.request(), bare.request()]);
  const graphqlDoc = JSON.parse(fromGraphql.toString('utf8'));
  assert.deepEqual(graphqlDoc, JSON.parse(fromBare.toString('utf8')), 'the GraphQL answer and the bare endpoint answer differ');
  assert.equal(graphqlDoc.data.getDeployments.length, server.deployments);
  const historyEntries = graphqlDoc.data.getDeployments.reduce((n, d) => n + d.statusHistory.length, 0);
  console.log(
    `api bench: getDeployments (+ getNodes) with ${server.deployments} deployments (${historyEntries} status history entries, ` +
      `${(fromGraphql.length / 1024).toFixed(0)} KB answer) vs bare express; ${concurrency} clients, ${seconds} s per round and side, ${rounds} rounds (alternating)`,
  );

  if (warmupSeconds > 0) for (const s of sides) await drive(s, warmupSeconds * 1000, child); // JIT, caches, sockets
  const results = { graphql: [], bare: [] };
  for (let round = 1; round <= rounds; round++) {
    // alternate which goes first so drift on a noisy machine hits both sides alike
    const order = round % 2 === 1 ? [graphql, bare] : [bare, graphql];
    for (const s of order) {
      const result = await drive(s, seconds * 1000, child);
      results[s.name].push(result);
      console.log(`  round ${round} ${s.name.padEnd(7)} ${fmt(result)}`);
    }
  }
  const summary = (name) => ({
    rate: median(results[name].map((r) => r.rate)),
    p50: median(results[name].map((r) => r.p50)),
    p99: median(results[name].map((r) => r.p99)),
    cpu: median(results[name].map((r) => r.cpu)),
    requests: results[name].reduce((n, r) => n + r.requests, 0),
  });
  const g = summary('graphql');
  const b = summary('bare');
  const rateRatio = g.rate / b.rate;
  console.log(`median bare:    ${fmt(b)}`);
  console.log(`median graphql: ${fmt(g)}`);
  console.log(
    `ratio graphql/bare: rate ${(rateRatio * 100).toFixed(1)}%, p50 ${(g.p50 / b.p50).toFixed(2)}x, p99 ${(g.p99 / b.p99).toFixed(2)}x, ` +
      `server CPU per request ${(g.cpu / b.cpu).toFixed(2)}x`,
  );
  const rateMet = rateRatio >= TARGET_RATE_RATIO;
  const p99Met = g.p99 < TARGET_P99_MS;
  verdict(
    smoke,
    `target rate >= ${TARGET_RATE_RATIO * 100}% of bare: ${rateMet ? 'MET' : 'NOT MET'}; target p99 < ${TARGET_P99_MS} ms: ${p99Met ? 'MET' : 'NOT MET'}`,
  );
} catch (error) {
  exitCode = 1;
  console.error(`api bench failed: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  for (const s of sides) s.close();
  await stopServer(child).catch((error) => console.warn(`stopping the bench server failed: ${error.message}`));
  await rm(dataDir, { recursive: true, force: true }).catch((error) =>
    console.warn(`removing ${dataDir} failed: ${error.message}`),
  );
}
process.exit(exitCode);
