#!/usr/bin/env node
// End-to-end log rate: a container's stdout -> Worker (DockerDeployer.followLogs + LogBatcher) ->
// AmqpBroker telemetry queue on the real RabbitMQ -> a consumer, against the engine's own rate for
// the same output (dockerode `logs` with the same follow/timestamps options, demuxed and split),
// measured in the same run on a twin container of the same image, program, limits and flags, so
// the ratio shows what Kraken's log path costs on a noisy machine. Every line is numbered; both
// sides count every line and report gaps, and the Kraken side also checks deploy.log `seq`.
//
//   NX_DAEMON=false npx nx run-many -t build && node tools/bench/logs/run.mjs [--lines 200000] [--rounds 3]
// Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), DOCKER_SOCKET (default /var/run/docker.sock)
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { AmqpBroker } from '@kraken/broker';
import { noopLogger } from '@kraken/common';
import { DockerDeployer, imageTag } from '@kraken/docker-deployer';
import { MessageType, createMessage } from '@kraken/messages';
import { Worker } from '@kraken/worker';
import { amqpUrl as url, appContainer, contextStageImage, deleteQueues, dockerSocket, fixtureRepo, freePort, median, nodeManifest, parseFlags, removeNodeResources, runBench, verdict } from '../lib.mjs';

const HELP = `Usage: node tools/bench/logs/run.mjs [options]

Measures lines/s from a container's stdout to a consumer of the telemetry queue through the Worker
(DockerDeployer log follow + LogBatcher + AmqpBroker on RabbitMQ), against reading the same output
straight from the engine with dockerode (baseline). Build first: NX_DAEMON=false npx nx run-many -t build
Needs RabbitMQ, the Docker engine and kraken-base/node:20 (bash tools/services/services.sh up;
bash dockerfiles/build-base-images.sh node).

Options:
  --lines N        numbered lines the app prints per round (default 200000)
  --line-bytes N   length of each line, padded (default 80)
  --rounds N       rounds per side, alternating which side goes first (default 3)
  --prefetch N     consumer prefetch on the telemetry queue (default 32, the broker default)
  --idle-timeout S give up on a round after S seconds with no new line (default 20)
  --smoke          one short round per side (5000 lines) that proves the bench works end to end and
                   prints its ratio without judging it (what CI runs)
  --help           this text

Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), DOCKER_SOCKET (default /var/run/docker.sock)`;

const { numbers, smoke } = parseFlags(
  HELP,
  {
    lines: { type: 'string', default: '200000' },
    'line-bytes': { type: 'string', default: '80' },
    rounds: { type: 'string', default: '3' },
    prefetch: { type: 'string', default: '32' },
    'idle-timeout': { type: 'string', default: '20' },
  },
  { positive: ['lines', 'line-bytes', 'rounds', 'prefetch', 'idle-timeout'], smoke: { lines: '5000', rounds: '1' } },
);
const total = numbers.lines;
const lineBytes = numbers['line-bytes'];
const rounds = numbers.rounds;
const prefetch = numbers.prefetch;
const idleTimeoutMs = numbers['idle-timeout'] * 1000;
const docker = new Docker({ socketPath: dockerSocket });
const TARGET_LINES_PER_SECOND = 20_000;
const APP_PORT = 3000;

const runId = randomUUID().slice(0, 8);
const nodeId = `bench-logs-${runId}`;
const deploymentId = `bench-logs-${runId}`;
const rawName = `kraken-bench-logs-raw-${runId}`;
const queues = { orchestrator: `bench.logs.${runId}.orchestrator`, telemetry: `bench.logs.${runId}.telemetry`, node: `bench.logs.${runId}.node` };

// Prints N numbered lines on request, so the measured window starts when both followers are
// already attached (the start-up replay of older lines is not what is measured). Writes go out in
// chunks of 1000 lines: stdout is a pipe in the container, synchronous in node, so it is fast.
const APP = `
const http = require('node:http');
const port = Number(process.env.PORT);
http.createServer((req, res) => {
  const query = new URL(req.url, 'http://x').searchParams;
  const n = Number(query.get('n'));
  const tag = query.get('tag');
  const width = Number(query.get('width'));
  if (req.url.startsWith('/go') && n > 0 && tag) {
    let chunk = '';
    for (let i = 0; i < n; i++) {
      const head = tag + ' ' + i + ' ';
      chunk += head + 'x'.repeat(Math.max(0, width - head.length)) + '\\n';
      if (i % 1000 === 999) { process.stdout.write(chunk); chunk = ''; }
    }
    if (chunk) process.stdout.write(chunk);
  }
  res.end('ok');
}).listen(port, () => console.log('listening on ' + port));
`;

/** Counts one round's numbered lines on either side, and the numbers it did not see. */
class RoundCounter {
  constructor(tag) {
    this.prefix = `${tag} `;
    this.received = 0;
    this.missing = 0;
    this.next = 0;
    this.lastAt = performance.now();
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  line(text) {
    if (!text.startsWith(this.prefix)) return;
    const number = Number.parseInt(text.slice(this.prefix.length), 10);
    if (number !== this.next) this.missing += Math.max(0, number - this.next);
    this.next = number + 1;
    this.received++;
    this.lastAt = performance.now();
    if (number === total - 1 || this.received === total) this.finish();
  }
}

async function waitFor(check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for the round's last line, or gives up once no line came for idleTimeout. */
async function awaitRound(counter) {
  let timer;
  const idle = new Promise((resolve) => {
    timer = setInterval(() => {
      if (performance.now() - counter.lastAt > idleTimeoutMs) resolve();
    }, 250);
  });
  await Promise.race([counter.finished, idle]);
  clearInterval(timer);
  return counter.lastAt;
}

await runBench('logs', async (cleanup) => {
  console.log(
    `logs bench: container stdout -> Worker -> AmqpBroker telemetry queue -> consumer vs dockerode logs (engine baseline); ${total} lines of ${lineBytes} B per round, ${rounds} rounds (alternating), prefetch ${prefetch}`,
  );
  await docker.ping();
  const work = await mkdtemp(path.join(os.tmpdir(), 'kraken-bench-logs-'));
  cleanup(() => rm(work, { recursive: true, force: true }));
  const repo = await fixtureRepo(path.join(work, 'repo'), { 'shipwreck.toml': nodeManifest('bench-logs', APP_PORT), 'server.js': APP });

  // ---- Kraken side: a Worker deploys the app from the git fixture, an orchestrator-side consumer reads logs
  const workerBroker = await AmqpBroker.create({ url });
  const orchestrator = await AmqpBroker.create({ url, prefetch });
  // cleanup runs newest first: the worker stops before its broker closes, queues go last
  cleanup(() => deleteQueues(url, Object.values(queues)));
  cleanup(() => orchestrator.close(), () => workerBroker.close());
  await orchestrator.declareQueue(queues.orchestrator);
  await orchestrator.declareQueue(queues.telemetry, { class: 'telemetry' });
  await orchestrator.declareQueue(queues.node);

  let status;
  const statuses = [];
  await orchestrator.consume(queues.orchestrator, (delivery) => {
    if (delivery.message.type === MessageType.DeployStatus && delivery.message.body.deploymentId === deploymentId) {
      status = delivery.message.body;
      statuses.push(status.status);
    }
  });
  const kraken = { counter: undefined, batches: 0, seqGaps: 0, nextSeq: 0, dropped: 0, appLines: 0, buildLines: [] };
  await orchestrator.consume(queues.telemetry, (delivery) => {
    if (delivery.message.type !== MessageType.DeployLog) return;
    const body = delivery.message.body;
    if (body.deploymentId !== deploymentId) return;
    kraken.batches++;
    if (body.seq !== kraken.nextSeq) kraken.seqGaps += Math.max(0, body.seq - kraken.nextSeq);
    kraken.nextSeq = body.seq + 1;
    kraken.dropped += body.dropped ?? 0;
    for (const line of body.lines) {
      if (line.stream === 'build') kraken.buildLines.push(line.text);
      if (line.stream === 'stdout') kraken.appLines++;
      kraken.counter?.line(line.text);
    }
  });

  const deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work, 'worker'), logger: noopLogger, readyTimeout: '60s' });
  const worker = await Worker.create({ broker: workerBroker, deployer, engine: docker, nodeId, logger: noopLogger, options: { queues } });
  const workerDrops = { lines: 0 };
  worker.on('logs-dropped', (info) => (workerDrops.lines += info.lines));
  cleanup(() => removeNodeResources(docker, nodeId));

  cleanup(async () => {
    await worker.stop();
    await deployer.stop(deploymentId).catch(() => undefined);
  });
  cleanup(async () => {
    // the template's context stage leaves an untagged image per distinct context, which the label
    // cleanup misses: its id is in the build output the worker forwarded
    const id = contextStageImage(kraken.buildLines);
    if (id !== undefined) await docker.getImage(id).remove().catch(() => undefined);
  });

  await orchestrator.publish(queues.node, createMessage(MessageType.DeployRequest, { deploymentId, srcUrl: repo, branch: 'main' }, { from: 'bench-orchestrator', epoch: 1 }));
  await waitFor(() => status?.status === 'Running' || status?.status === 'Errored', 'the Worker to deploy the app', 180_000);
  if (status.status !== 'Running') throw new Error(`the Worker could not deploy the app: ${status.message ?? statuses.join(' -> ')}`);
  const krakenPort = status.port;
  // the follower is attached once the app's start-up line came through the whole path
  await waitFor(() => kraken.appLines > 0, 'the app start-up line through the Worker', 30_000);

  // ---- baseline: a twin container of the same image with the deployer's settings, read with dockerode
  const image = imageTag('bench-logs', deploymentId);
  const krakenInfo = await (await appContainer(docker, deploymentId)).inspect();
  const rawPort = await freePort();
  const raw = await docker.createContainer({
    name: rawName,
    Image: image,
    Cmd: ['sh', '-c', 'node server.js'],
    Env: [`PORT=${APP_PORT}`],
    Labels: { 'org.kraken.bench': runId },
    ExposedPorts: { [`${APP_PORT}/tcp`]: {} },
    Tty: false,
    HostConfig: {
      Init: true,
      PortBindings: { [`${APP_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(rawPort) }] },
      Memory: krakenInfo.HostConfig.Memory,
      NanoCpus: krakenInfo.HostConfig.NanoCpus,
    },
  });
  cleanup(() => raw.remove({ force: true }));
  await raw.start();
  const rawSide = { counter: undefined, lines: 0 };
  const rawStream = await raw.logs({ follow: true, stdout: true, stderr: true, timestamps: true, since: Math.floor(Date.now() / 1000) - 5 });
  cleanup(() => rawStream.destroy());
  const stdout = new PassThrough();
  docker.modem.demuxStream(rawStream, stdout, new PassThrough().resume());
  let rest = '';
  stdout.on('data', (chunk) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      rawSide.lines++;
      // "<RFC3339 timestamp> <text>", as the engine writes it with timestamps on
      rawSide.counter?.line(line.slice(line.indexOf(' ') + 1));
    }
  });
  await waitFor(() => rawSide.lines > 0, 'the baseline container start-up line', 30_000);

  async function round(side, number) {
    const tag = `r${number}${side[0]}`;
    const counter = new RoundCounter(tag);
    const target = side === 'kraken' ? kraken : rawSide;
    target.counter = counter;
    const droppedBefore = kraken.dropped;
    const port = side === 'kraken' ? krakenPort : rawPort;
    const start = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/go?n=${total}&tag=${tag}&width=${lineBytes}`);
    await response.text();
    const printedAt = performance.now();
    const end = await awaitRound(counter);
    target.counter = undefined;
    // nothing at all is a broken path, not a slow one: no rate to report
    if (counter.received === 0) throw new Error(`round ${number} ${side}: no line arrived within ${idleTimeoutMs / 1000} s of the request`);
    const seconds = (end - start) / 1000;
    return {
      rate: counter.received / seconds,
      seconds,
      printSeconds: (printedAt - start) / 1000,
      received: counter.received,
      missing: total - counter.received,
      gaps: counter.missing,
      reportedDropped: side === 'kraken' ? kraken.dropped - droppedBefore : 0,
    };
  }

  // warm-up: JIT on both sides, the engine's log files, RabbitMQ's queue process
  const warmTotal = Math.min(total, 20_000);
  for (const [port, target] of [[krakenPort, kraken], [rawPort, rawSide]]) {
    const counter = new RoundCounter('warm');
    target.counter = counter;
    await (await fetch(`http://127.0.0.1:${port}/go?n=${warmTotal}&tag=warm&width=${lineBytes}`)).text();
    await Promise.race([counter.finished, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    target.counter = undefined;
  }

  const results = { raw: [], kraken: [] };
  for (let number = 1; number <= rounds; number++) {
    // alternate which goes first so drift on a noisy machine hits both sides alike
    const order = number % 2 === 1 ? ['raw', 'kraken'] : ['kraken', 'raw'];
    for (const side of order) {
      const result = await round(side, number);
      results[side].push(result);
      console.log(
        `  round ${number} ${side.padEnd(6)} ${result.rate.toFixed(0).padStart(7)} lines/s  (${result.received}/${total} lines in ${result.seconds.toFixed(2)} s; app printed them in ${result.printSeconds.toFixed(2)} s; missing ${result.missing}, numbering gaps ${result.gaps}${side === 'kraken' ? `, reported dropped ${result.reportedDropped}` : ''})`,
      );
    }
  }

  const rawRate = median(results.raw.map((r) => r.rate));
  const krakenRate = median(results.kraken.map((r) => r.rate));
  const missing = (side) => results[side].reduce((sum, r) => sum + r.missing, 0);
  const ratio = krakenRate / rawRate;
  console.log(`median dockerode logs (engine): ${rawRate.toFixed(0)} lines/s; Kraken Worker -> RabbitMQ -> consumer: ${krakenRate.toFixed(0)} lines/s`);
  console.log(`ratio Kraken/engine: ${(ratio * 100).toFixed(1)}%`);
  console.log(
    `lines lost: Kraken ${missing('kraken')} (deploy.log dropped field: ${kraken.dropped}, worker logs-dropped events: ${workerDrops.lines} lines), engine ${missing('raw')}; deploy.log seq gaps: ${kraken.seqGaps} over ${kraken.batches} batches`,
  );
  const met = krakenRate >= TARGET_LINES_PER_SECOND && kraken.seqGaps === 0 && missing('kraken') === 0;
  verdict(smoke, `target >= ${TARGET_LINES_PER_SECOND} lines/s per worker with 0 seq gaps and 0 lines lost: ${met ? 'MET' : 'NOT MET'}`);
});
