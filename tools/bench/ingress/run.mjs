#!/usr/bin/env node
// Requests through an agent's ingress (@kraken/ingress, Host-name routing to the app) against the
// same requests straight to the app's port, in the same run, on loopback. The app and the ingress
// are processes of their own (./child.mjs); the load comes from this one.
//
//   NX_DAEMON=false npx nx run ingress:build && node tools/bench/ingress/run.mjs [--connections 10] [--seconds 10] [--smoke]
import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import { median, parseFlags, runBench, verdict } from '../lib.mjs';

const HELP = `Usage: node tools/bench/ingress/run.mjs [options]

Starts a small node HTTP app and an ingress routing the name "bench" to it (each a child process),
then measures, per round and side, alternating which side goes first:
  - rate: requests/s with --connections keep-alive clients (autocannon) for --seconds;
  - latency at concurrency 1: one keep-alive client sending --latency-requests requests back to
    back, p50 and p99 from its own clock (sub-millisecond resolution).
Direct: to the app's port. Ingress: to the ingress's port with the header "Host: bench".
Prints both sides, the medians and the ratio ingress/direct. Build first: NX_DAEMON=false npx nx run ingress:build

Options:
  --connections N       clients for the rate (default 10)
  --seconds S           time per rate run (default 10)
  --latency-requests N  requests for the latency at concurrency 1 (default 5000)
  --rounds N            rounds (default 3)
  --smoke               one short round per side (1 s, 500 requests) that proves the bench works
                        end to end and prints its ratio without judging it (what CI runs)
  --help                this text`;

const { numbers, smoke } = parseFlags(
  HELP,
  {
    connections: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    'latency-requests': { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
  },
  {
    positive: ['connections', 'seconds', 'latency-requests', 'rounds'],
    smoke: { seconds: '1', 'latency-requests': '500', rounds: '1' },
  },
);
const { connections, seconds, rounds } = numbers;
const latencyRequests = numbers['latency-requests'];

const TARGET_RATE_RATIO = 0.8;
const TARGET_ADDED_P50_MS = 1;

function startChild(args) {
  const child = fork(path.join(import.meta.dirname, 'child.mjs'), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message.port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench child ${args.join(' ')} exited with code ${code} before it listened`)));
  });
  return { child, ready };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.disconnect();
  const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
  return exited.finally(() => clearTimeout(kill));
}

/** Requests/s with `connections` keep-alive clients; fails on any error or non-200 answer. */
async function rate(side) {
  const result = await autocannon({ url: `http://127.0.0.1:${side.port}/`, headers: side.headers, connections, duration: seconds });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${side.name}: ${failed} failed requests (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx})`);
  if (result.requests.total === 0) throw new Error(`${side.name}: no request was answered`);
  // autocannon gives the duration in seconds
  return result.requests.total / result.duration;
}

/** p50 and p99 of `latencyRequests` requests sent back to back over one kept-alive connection. */
async function latency(side) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: side.port, path: '/', headers: side.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${side.name}: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
    });
  try {
    for (let i = 0; i < 50; i += 1) await once(); // the connection and the JIT, uncounted
    const times = [];
    for (let i = 0; i < latencyRequests; i += 1) {
      const t0 = performance.now();
      await once();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { p50: times[Math.floor(times.length / 2)], p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] };
  } finally {
    agent.destroy();
  }
}

const fmt = (r) => `${r.rate.toFixed(0).padStart(7)} req/s (${connections} clients)  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms (1 client)`;

await runBench('ingress', async (cleanup) => {
  const app = startChild(['--role', 'app']);
  cleanup(() => stopChild(app.child));
  const appPort = await app.ready;
  const ingress = startChild(['--role', 'ingress', '--upstream', `http://127.0.0.1:${appPort}`]);
  cleanup(() => stopChild(ingress.child));
  const ingressPort = await ingress.ready;

  const sides = [
    { name: 'direct', port: appPort, headers: {} },
    { name: 'ingress', port: ingressPort, headers: { host: 'bench' } },
  ];
  console.log(`ingress bench: a node app answering 'hello' straight vs through @kraken/ingress (Host: bench), loopback; ${rounds} round(s), ${seconds} s of rate and ${latencyRequests} requests of latency per side`);
  const results = { direct: [], ingress: [] };
  for (let round = 1; round <= rounds; round += 1) {
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    for (const side of order) {
      const measured = { rate: await rate(side), ...(await latency(side)) };
      results[side.name].push(measured);
      console.log(`round ${round} ${side.name.padEnd(7)} ${fmt(measured)}`);
    }
  }
  const summary = (name) => ({
    rate: median(results[name].map((r) => r.rate)),
    p50: median(results[name].map((r) => r.p50)),
    p99: median(results[name].map((r) => r.p99)),
  });
  const direct = summary('direct');
  const through = summary('ingress');
  console.log(`median direct  ${fmt(direct)}`);
  console.log(`median ingress ${fmt(through)}`);
  const rateRatio = through.rate / direct.rate;
  const addedP50 = through.p50 - direct.p50;
  console.log(`ratio ingress/direct: rate ${(rateRatio * 100).toFixed(1)}%, added p50 ${addedP50.toFixed(3)} ms at concurrency 1`);
  verdict(
    smoke,
    `targets: rate >= ${TARGET_RATE_RATIO * 100}% of direct: ${rateRatio >= TARGET_RATE_RATIO ? 'met' : 'NOT met'}; ` +
      `added p50 < ${TARGET_ADDED_P50_MS} ms: ${addedP50 < TARGET_ADDED_P50_MS ? 'met' : 'NOT met'}`,
  );
});
