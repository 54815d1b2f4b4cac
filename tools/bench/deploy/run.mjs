#!/usr/bin/env node
// Time from a deploy request to the app's first HTTP 200 through Kraken (deploy.request -> Worker
// -> DockerDeployer: clone, build with the node template, start, ready check) against the same
// steps done by hand with the git and docker CLIs (git clone && docker build (same template, same
// context) && docker run && poll), measured in the same run on the same engine, cold (the app's
// layers miss the build cache: unique package.json per round, so `npm install` runs again) and
// warm (every layer cached), as ratios Kraken/hand. Both sides poll the app's port the same way,
// from their container's start event on (see pollFor200). Each round also prints where the time went (phases).
//
//   NX_DAEMON=false npx nx run-many -t build && node tools/bench/deploy/run.mjs [--rounds 3] [--broker amqp|memory] [--smoke]
// Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), DOCKER_SOCKET (default /var/run/docker.sock)
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { AmqpBroker, MemoryBroker } from '@kraken/broker';
import { noopLogger } from '@kraken/common';
import { defaultTemplatesDir, imageTag } from '@kraken/docker-deployer';
import { instanceName } from '@kraken/runtime';
import { DeploymentStatus, MessageType, createMessage } from '@kraken/messages';
import { Worker } from '@kraken/worker';
import { amqpUrl as url, contextStageImage, deleteQueues, dockerSocket as socketPath, fixtureRepo as commitRepo, freePort, median, nodeManifest, parseFlags, removeNodeResources, runBench, verdict } from '../lib.mjs';

const HELP = `Usage: node tools/bench/deploy/run.mjs [options]

Measures request -> first HTTP 200 of a small node app deployed through Kraken (deploy.request to a
Worker with DockerDeployer) against the same steps by hand (git clone, docker build with the same
node template and context, docker run, poll for 200), cold (build cache misses the app's layers)
and warm (all layers cached). Prints each time, its phases (source: request -> build starts;
build; start: container create -> first 200) and the median ratios Kraken/hand.
Build first: NX_DAEMON=false npx nx run-many -t build
Needs the Docker engine with kraken-base/node:20 (bash dockerfiles/build-base-images.sh node) and,
for --broker amqp, RabbitMQ (bash tools/services/services.sh up).

Options:
  --rounds N              rounds of each mode (cold, warm), alternating which side goes first (default 3)
  --broker amqp|memory    broker between the request and the Worker (default amqp: RabbitMQ)
  --poll-ms N             a poll request every N ms on both sides, from the container's start (default 50)
  --timeout S             give up on one deploy after S seconds (default 180)
  --deployer-module M     import DockerDeployer from M instead of @kraken/docker-deployer: a path to
                          another build's dist/index.js, to compare two builds under the same load
  --smoke                 one round of each mode per side that proves the bench works end to end and
                          prints its ratios without judging them (what CI runs)
  --help                  this text

Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), DOCKER_SOCKET (default /var/run/docker.sock)`;

const { values, numbers, smoke } = parseFlags(
  HELP,
  {
    rounds: { type: 'string', default: '3' },
    broker: { type: 'string', default: 'amqp' },
    'poll-ms': { type: 'string', default: '50' },
    timeout: { type: 'string', default: '180' },
    'deployer-module': { type: 'string', default: '@kraken/docker-deployer' },
  },
  { positive: ['rounds', 'poll-ms', 'timeout'], smoke: { rounds: '1' } },
);
const rounds = numbers.rounds;
const pollMs = numbers['poll-ms'];
const timeoutMs = numbers.timeout * 1000;
if (values.broker !== 'amqp' && values.broker !== 'memory') {
  console.error(`--broker must be amqp or memory, got ${JSON.stringify(values.broker)}`);
  process.exit(2);
}
const docker = new Docker({ socketPath });
const TARGET_OVERHEAD = 0.1;
const APP_PORT = 3000;
const APP_NAME = 'bench-deploy';
const TEMPLATE = path.join(defaultTemplatesDir(), 'node', 'Dockerfile');

const runId = randomUUID().slice(0, 8);
const nodeId = `bench-deploy-${runId}`;
const handLabel = `org.kraken.bench=${runId}`;
const queues = { orchestrator: `bench.deploy.${runId}.orchestrator`, telemetry: `bench.deploy.${runId}.telemetry`, node: `bench.deploy.${runId}.node` };
const run = promisify(execFile);
const dockerEnv = { ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_BUILDKIT: '0' };

const SERVER = `const http = require('node:http');
const port = Number(process.env.PORT);
http.createServer((req, res) => res.end('hello from the deploy bench')).listen(port, () => console.log('listening on ' + port));
`;

/** A git repo of the fixture app. `nonce` lands in package.json, so a new one misses the npm layer. */
function fixtureRepo(dir, nonce) {
  return commitRepo(dir, {
    'shipwreck.toml': nodeManifest(APP_NAME, APP_PORT),
    'package.json': `${JSON.stringify({ name: 'bench-deploy', version: '1.0.0', private: true, description: `deploy bench ${nonce}`, scripts: { start: 'node server.js' } }, null, 2)}\n`,
    'server.js': SERVER,
    // the deployer never sends .git; the docker CLI would, so the hand build gets the same context
    '.dockerignore': '.git\n',
  });
}

/**
 * Resolves with the moment the app first answers 200 on `port`. A request goes out every pollMs
 * without waiting for the earlier ones, so one held connection cannot hide a later answer. Both
 * sides use this loop, from their container's start event on (see containerStarts).
 */
function pollFor200(port, deadline, failed = () => undefined) {
  return new Promise((resolve, reject) => {
    const inFlight = new Set();
    let done = false;
    const finish = (settle) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      for (const request of inFlight) request.destroy();
      settle();
    };
    const attempt = () => {
      const reason = failed();
      if (reason !== undefined) return finish(() => reject(new Error(reason)));
      if (performance.now() > deadline) return finish(() => reject(new Error(`no HTTP 200 on port ${port} within ${timeoutMs / 1000} s`)));
      if (inFlight.size >= 20) return;
      const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (response) => {
        const at = performance.now();
        response.resume();
        inFlight.delete(request);
        if (response.statusCode === 200) finish(() => resolve(at));
      });
      inFlight.add(request);
      request.on('timeout', () => request.destroy());
      request.on('error', () => inFlight.delete(request));
    };
    const timer = setInterval(attempt, pollMs);
    attempt();
  });
}

/**
 * The engine's container `start` events, so both sides begin polling when their container has
 * started, as the deployer's ready check does. Requests sent while a container's network is still
 * coming up delayed its first answer by about 0.2 s here (the kernel or docker-proxy keeps the
 * failed attempt's state for a while), so polling from the request on would add that to both sides.
 */
async function containerStarts() {
  const stream = await docker.getEvents({ filters: { type: ['container'], event: ['start'] } });
  const seen = new Map();
  const waiters = new Map();
  let rest = '';
  stream.on('data', (chunk) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (line.trim() === '') continue;
      const name = JSON.parse(line).Actor?.Attributes?.name;
      if (name === undefined) continue;
      seen.set(name, performance.now());
      waiters.get(name)?.();
    }
  });
  return {
    /** Resolves when `name` has started; rejects with failed()'s reason or at the deadline. */
    started(name, deadline, failed = () => undefined) {
      return new Promise((resolve, reject) => {
        const timer = setInterval(check, 100);
        function check() {
          const reason = failed();
          if (seen.has(name)) finish(() => resolve(seen.get(name)));
          else if (reason !== undefined) finish(() => reject(new Error(reason)));
          else if (performance.now() > deadline) finish(() => reject(new Error(`container ${name} did not start within ${timeoutMs / 1000} s`)));
        }
        function finish(settle) {
          clearInterval(timer);
          waiters.delete(name);
          settle();
        }
        waiters.set(name, check);
        check();
      });
    },
    forget(name) {
      seen.delete(name);
    },
    close: () => stream.destroy(),
  };
}

/** Images kept until the end: they hold the warm layer chain (removing one would drop its parents). */
const keptImages = [];

await runBench('deploy', async (cleanup) => {
  console.log(
    `deploy bench: request -> first HTTP 200 of a node app, Kraken (deploy.request over ${values.broker === 'amqp' ? 'AmqpBroker/RabbitMQ' : 'MemoryBroker'} -> Worker -> DockerDeployer from ${values['deployer-module']}) vs by hand (git clone && docker build && docker run && poll), cold and warm build cache, ${rounds} rounds each (alternating), poll every ${pollMs} ms`,
  );
  await docker.ping();
  await docker.getImage('kraken-base/node:20').inspect().catch(() => {
    throw new Error('kraken-base/node:20 is missing: run bash dockerfiles/build-base-images.sh node');
  });
  const work = await mkdtemp(path.join(os.tmpdir(), 'kraken-bench-deploy-'));
  cleanup(() => rm(work, { recursive: true, force: true }));
  // context-stage images: removed at the very end, after every image that might share them
  const contextImages = new Set();
  cleanup(async () => {
    for (const id of contextImages) await docker.getImage(id).remove().catch(() => undefined);
  });
  cleanup(async () => {
    const hand = await docker.listContainers({ all: true, filters: { label: [handLabel] } });
    await Promise.all(hand.map((info) => docker.getContainer(info.Id).remove({ force: true })));
    for (const tag of keptImages) await docker.getImage(tag).remove().catch(() => undefined);
    await removeNodeResources(docker, nodeId);
  });

  const starts = await containerStarts();
  cleanup(() => starts.close());

  // ---- Kraken: a Worker on its own queues, an orchestrator side that sends requests and reads statuses
  let workerBroker;
  let orchestrator;
  if (values.broker === 'amqp') {
    cleanup(() => deleteQueues(url, Object.values(queues)));
    workerBroker = await AmqpBroker.create({ url });
    orchestrator = await AmqpBroker.create({ url });
    cleanup(() => orchestrator.close(), () => workerBroker.close());
  } else {
    // one in-process broker: both sides talk through it, as on a single node without RabbitMQ
    workerBroker = new MemoryBroker();
    orchestrator = workerBroker;
    cleanup(() => workerBroker.close());
  }
  await orchestrator.declareQueue(queues.orchestrator);
  await orchestrator.declareQueue(queues.telemetry, { class: 'telemetry' });
  await orchestrator.declareQueue(queues.node);
  const statusWaiters = new Map();
  const lastStatus = new Map();
  /** deploymentId -> status -> when it first arrived: where the time went on the Kraken side. */
  const statusTimes = new Map();
  await orchestrator.consume(queues.orchestrator, (delivery) => {
    if (delivery.message.type !== MessageType.DeployStatus) return;
    const body = delivery.message.body;
    const seenAt = performance.now();
    lastStatus.set(body.deploymentId, { ...body, seenAt });
    const times = statusTimes.get(body.deploymentId) ?? {};
    times[body.status] ??= seenAt;
    statusTimes.set(body.deploymentId, times);
    statusWaiters.get(body.deploymentId)?.();
  });
  const buildLines = new Map();
  await orchestrator.consume(queues.telemetry, (delivery) => {
    if (delivery.message.type !== MessageType.DeployLog) return;
    const body = delivery.message.body;
    const lines = buildLines.get(body.deploymentId) ?? [];
    for (const line of body.lines) if (line.stream === 'build') lines.push(line.text);
    buildLines.set(body.deploymentId, lines);
  });
  const { DockerDeployer } = await import(/\.m?js$/.test(values['deployer-module']) ? pathToFileURL(path.resolve(values['deployer-module'])).href : values['deployer-module']);
  const deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work, 'worker'), logger: noopLogger, readyTimeout: `${timeoutMs}ms` });
  const worker = await Worker.create({ broker: workerBroker, deployer, engine: docker, nodeId, logger: noopLogger, options: { queues } });
  cleanup(() => worker.stop());

  const waitStatus = async (deploymentId, wanted, deadline) => {
    for (;;) {
      const status = lastStatus.get(deploymentId);
      if (status !== undefined && wanted.includes(status.status)) return status;
      if (performance.now() > deadline) throw new Error(`${deploymentId}: no ${wanted.join('/')} status within ${timeoutMs / 1000} s (last: ${status?.status ?? 'none'})`);
      await new Promise((resolve) => {
        statusWaiters.set(deploymentId, resolve);
        setTimeout(resolve, 200);
      });
    }
  };

  const command = (type, body) => orchestrator.publish(queues.node, createMessage(type, body, { from: 'bench-orchestrator', epoch: 1 }));

  async function krakenDeploy(repo, deploymentId, { keep = false } = {}) {
    const hostPort = await freePort();
    const start = performance.now();
    const deadline = start + timeoutMs;
    await command(MessageType.DeployRequest, { deploymentId, srcUrl: repo, branch: 'main', port: hostPort });
    const errored = () => {
      const status = lastStatus.get(deploymentId);
      return status?.status === 'Errored' ? `Kraken deploy ${deploymentId} failed: ${status.message}` : undefined;
    };
    await starts.started(instanceName(deploymentId, nodeId), deadline, errored);
    starts.forget(instanceName(deploymentId, nodeId));
    const ok = await pollFor200(hostPort, deadline, errored);
    const running = await waitStatus(deploymentId, ['Running', 'Errored'], deadline);
    if (running.status !== 'Running') throw new Error(errored());
    const times = statusTimes.get(deploymentId);
    await command(MessageType.DeployCancel, { deploymentId, reason: 'deploy bench round done' });
    await waitStatus(deploymentId, ['Destroyed', 'Errored'], performance.now() + 60_000);
    const tag = imageTag(APP_NAME, deploymentId);
    if (keep) keptImages.push(tag);
    else await docker.getImage(tag).remove().catch(() => undefined);
    const contextImage = contextStageImage(buildLines.get(deploymentId) ?? []);
    if (contextImage !== undefined) contextImages.add(contextImage);
    buildLines.delete(deploymentId);
    statusTimes.delete(deploymentId);
    // phases from the statuses the Worker published when each step started (they include the broker hop)
    const phases = { source: times[DeploymentStatus.BuildingDeployment] - start, build: times[DeploymentStatus.Deploying] - times[DeploymentStatus.BuildingDeployment], start: ok - times[DeploymentStatus.Deploying] };
    return { seconds: (ok - start) / 1000, runningSeconds: (Math.max(running.seenAt, ok) - start) / 1000, phases };
  }

  async function handDeploy(repo, name, { keep = false } = {}) {
    const dir = path.join(work, 'hand', name);
    const tag = `kraken-bench-hand/${runId}:${name}`;
    const container = `kraken-bench-hand-${runId}-${name}`;
    const hostPort = await freePort();
    const start = performance.now();
    const deadline = start + timeoutMs;
    await run('git', ['clone', '--quiet', '--branch', 'main', repo, dir]);
    // the template goes into the context, as the deployer puts it: with -f outside the context the
    // docker CLI rewrites .dockerignore in the tar on every build, so COPY . would never hit the cache
    await copyFile(TEMPLATE, path.join(dir, '.kraken.Dockerfile'));
    const cloned = performance.now();
    const build = await run('docker', ['build', '-f', path.join(dir, '.kraken.Dockerfile'), '--build-arg', `PORT=${APP_PORT}`, '--label', handLabel, '-t', tag, dir], { env: dockerEnv, maxBuffer: 64 * 1024 * 1024 });
    const built = performance.now();
    // the same container settings as the deployer's: tini, PORT, the default limits, the app command
    await run(
      'docker',
      ['run', '-d', '--init', '--name', container, '--label', handLabel, '-p', `${hostPort}:${APP_PORT}`, '-e', `PORT=${APP_PORT}`, '--memory', '512m', '--cpus', '1', tag, 'sh', '-c', 'node server.js'],
      { env: dockerEnv },
    );
    await starts.started(container, deadline);
    starts.forget(container);
    const ok = await pollFor200(hostPort, deadline);
    await docker.getContainer(container).remove({ force: true });
    if (keep) keptImages.push(tag);
    else await docker.getImage(tag).remove().catch(() => undefined);
    const contextImage = contextStageImage(build.stdout.split('\n'));
    if (contextImage !== undefined) contextImages.add(contextImage);
    await rm(dir, { recursive: true, force: true });
    return { seconds: (ok - start) / 1000, phases: { source: cloned - start, build: built - cloned, start: ok - built } };
  }

  const repos = path.join(work, 'repos');
  let repoCount = 0;
  const newRepo = (nonce) => fixtureRepo(path.join(repos, String(++repoCount)), nonce);
  // warm: one content for the whole run, built once per side here so every round hits the cache
  const warmRepo = await newRepo(`warm ${runId}`);
  const warmUp = [await krakenDeploy(warmRepo, `${nodeId}-warmup`, { keep: true }), await handDeploy(warmRepo, 'warmup', { keep: true })];
  console.log(`  warm-up (primes the warm cache, not counted; the hand build may reuse the Kraken one's layers): kraken ${warmUp[0].seconds.toFixed(2)} s, hand ${warmUp[1].seconds.toFixed(2)} s`);

  const results = { cold: { kraken: [], hand: [] }, warm: { kraken: [], hand: [] } };
  for (let round = 1; round <= rounds; round++) {
    for (const mode of ['cold', 'warm']) {
      // alternate which goes first so drift on a noisy machine hits both sides alike
      const order = round % 2 === 1 ? ['kraken', 'hand'] : ['hand', 'kraken'];
      for (const side of order) {
        const repo = mode === 'warm' ? warmRepo : await newRepo(`${side} ${round} ${randomUUID()}`);
        const name = `${mode}-${round}`;
        const result = side === 'kraken' ? await krakenDeploy(repo, `${nodeId}-${name}`) : await handDeploy(repo, name);
        results[mode][side].push(result);
        const extra = side === 'kraken' ? ` (Running status at ${result.runningSeconds.toFixed(2)} s)` : '';
        console.log(`  round ${round} ${mode} ${side.padEnd(6)} ${result.seconds.toFixed(2).padStart(6)} s to first 200${extra}  [${formatPhases(result.phases)}]`);
      }
    }
  }

  let met = true;
  const ratios = {};
  for (const mode of ['cold', 'warm']) {
    const kraken = median(results[mode].kraken.map((r) => r.seconds));
    const hand = median(results[mode].hand.map((r) => r.seconds));
    const running = median(results[mode].kraken.map((r) => r.runningSeconds));
    const ratio = kraken / hand;
    ratios[mode] = ratio;
    met &&= ratio <= 1 + TARGET_OVERHEAD;
    console.log(
      `${mode}: median hand ${hand.toFixed(2)} s, Kraken ${kraken.toFixed(2)} s to first 200 (Running status ${running.toFixed(2)} s); ratio Kraken/hand ${(ratio * 100).toFixed(1)}% (${((ratio - 1) * 100).toFixed(1)}% added)`,
    );
    for (const side of ['hand', 'kraken']) console.log(`  ${side.padEnd(6)} median phases: ${formatPhases(medianPhases(results[mode][side]))}`);
  }
  console.log(`ratio Kraken/hand: cold ${(ratios.cold * 100).toFixed(1)}%, warm ${(ratios.warm * 100).toFixed(1)}%`);
  verdict(smoke, `target: Kraken adds at most ${TARGET_OVERHEAD * 100}% (cold and warm): ${met ? 'MET' : 'NOT MET'}`);
});

function medianPhases(results) {
  return Object.fromEntries(Object.keys(results[0].phases).map((phase) => [phase, median(results.map((r) => r.phases[phase]))]));
}

/** source: request -> build starts (clone, manifest); build; start: container create -> first 200. */
function formatPhases(phases) {
  return Object.entries(phases)
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)} s`)
    .join(', ');
}
