#!/usr/bin/env node
// Time for an agent to find a running orchestrator by mDNS against the opt-in subnet scan of the
// same /24, measured in the same run, in a network-namespace lab (needs root). The orchestrator's
// host announces `_kraken._tcp` and answers /ping like the real API; the finder runs
// findOrchestrator (mDNS) and scanSubnet (its eth0's /24) in turn, alternating which goes first.
//
//   npx nx run-many -t build -p discovery testing && node tools/bench/discovery/run.mjs [--rounds 5] [--smoke]
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetnsLab } from '@kraken/testing';
import { parseFlags, verdict } from '../lib.mjs';

const usage = `node tools/bench/discovery/run.mjs [options]   (root: it creates a network-namespace lab)
  --rounds N              rounds of each method, alternating which goes first (default 5)
  --orchestrator-octet N  last octet of the orchestrator's address in the lab /24; the scan goes
                          upwards from .1, so this sets how far it must get (default 200)
  --concurrency N         scan: probes in flight (default 64, the library default)
  --scan-timeout-ms N     scan: time allowed per host (default 300, the library default)
  --mdns-timeout-ms N     mDNS: give up after (default 10000)
  --smoke                 one round of each method that proves the bench works end to end and prints
                          its ratio without judging it (what CI runs)`;

const { numbers, smoke } = parseFlags(
  usage,
  {
    rounds: { type: 'string', default: '5' },
    'orchestrator-octet': { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '64' },
    'scan-timeout-ms': { type: 'string', default: '300' },
    'mdns-timeout-ms': { type: 'string', default: '10000' },
  },
  { positive: ['rounds', 'orchestrator-octet', 'concurrency', 'scan-timeout-ms', 'mdns-timeout-ms'], smoke: { rounds: '1' } },
);
const rounds = numbers.rounds;
const octet = numbers['orchestrator-octet'];
const concurrency = numbers.concurrency;
const scanTimeoutMs = numbers['scan-timeout-ms'];
const mdnsTimeoutMs = numbers['mdns-timeout-ms'];
const apiPort = 4000;
const clusterId = 'bench-cluster';
const finderScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'finder.mjs');

/** finder.mjs inside a lab host; `run(job)` resolves with the job's first answer. */
async function startFinder(lab, host) {
  const child = lab.spawn(host, [process.execPath, finderScript], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map();
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const answer = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      const waiter = pending.get(answer.id);
      pending.delete(answer.id);
      if (answer.event === 'error') waiter?.reject(new Error(`${lab.host(host).name}: ${answer.message}`));
      else waiter?.resolve(answer);
    }
  });
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`finder in ${lab.host(host).name} exited (${code})`));
  });
  let nextId = 1;
  const answerTo = (id) => new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  await answerTo(0);
  return {
    run(job) {
      const id = nextId++;
      const answer = answerTo(id);
      child.stdin.write(`${JSON.stringify({ id, job })}\n`);
      return answer;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}

const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ms = (value) => (value === null || value === undefined ? 'not found' : `${value.toFixed(0)} ms`);

async function main() {
  if (process.getuid?.() !== 0) throw new Error('the discovery bench creates network namespaces: run it as root');
  const lab = await createNetnsLab({ name: 'bench-discovery', hosts: 2, hostOctets: [2, octet] });
  const finders = [];
  try {
    const [finderHost, orchestratorHost] = lab.hosts;
    const expectUrl = `http://${orchestratorHost.address}:${apiPort}`;
    console.log(
      `lab ${lab.subnet}: finder ${finderHost.address}, orchestrator ${expectUrl}; ${rounds} rounds, scan concurrency ${concurrency}, ${scanTimeoutMs} ms per host`,
    );
    finders.push(...(await Promise.all([startFinder(lab, finderHost), startFinder(lab, orchestratorHost)])));
    const [finder, orchestrator] = finders;
    await orchestrator.run({ mode: 'ping-server', port: apiPort, clusterId });
    await orchestrator.run({
      mode: 'announce',
      options: {
        name: 'bench-orchestrator',
        port: apiPort,
        txt: { clusterId, role: 'orchestrator', priority: 0, apiPort },
        interfaceAddress: orchestratorHost.address,
      },
    });

    const measure = {
      mdns: () =>
        finder.run({
          mode: 'mdns',
          expectUrl,
          options: { interfaceAddress: finderHost.address, clusterId, timeoutMs: mdnsTimeoutMs },
        }),
      scan: () =>
        finder.run({
          mode: 'scan',
          expectUrl,
          options: { interfaceName: 'eth0', port: apiPort, clusterId, concurrency, timeoutMs: scanTimeoutMs },
        }),
    };
    const results = { mdns: [], scan: [], sweep: [] };
    for (let round = 1; round <= rounds; round += 1) {
      const order = round % 2 === 1 ? ['mdns', 'scan'] : ['scan', 'mdns'];
      const line = [];
      for (const method of order) {
        const answer = await measure[method]();
        if (answer.foundMs === null)
          throw new Error(`round ${round}: ${method} did not find ${expectUrl} (${JSON.stringify(answer)})`);
        results[method].push(answer.foundMs);
        if (method === 'scan') results.sweep.push(answer.sweepMs);
        line.push(
          `${method} ${ms(answer.foundMs)}${method === 'scan' ? ` (whole /24 swept in ${ms(answer.sweepMs)}, ${answer.scanned} hosts)` : ''}`,
        );
      }
      console.log(`round ${round}: ${line.join(', ')}`);
    }
    const mdns = median(results.mdns);
    const scan = median(results.scan);
    const sweep = median(results.sweep);
    console.log('');
    console.log(`median time to find the orchestrator: mDNS ${ms(mdns)}, subnet scan ${ms(scan)} (whole sweep ${ms(sweep)})`);
    console.log(`ratio scan/mDNS: ${(scan / mdns).toFixed(1)}x`);
    verdict(smoke, `target: the scan finds the orchestrator in under 5 s: ${scan < 5000 ? 'MET' : 'NOT MET'}`);
  } finally {
    await Promise.all(finders.map((finder) => finder.close()));
    await lab.destroy();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
