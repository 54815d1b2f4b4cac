#!/usr/bin/env node
// Time from a deploy request to the app's first HTTP 200 through Kraken (deploy.request -> Worker
// -> DockerDeployer: clone, build with the node template, start, ready check) against the same
// steps done by hand with the git and docker CLIs (git clone && docker build (same template, same
// context) && docker run && poll), measured in the same run on the same engine, cold (the app's
// layers miss the build cache: unique package.json per round, so `npm install` runs again) and
// warm (every layer cached), as ratios Kraken/hand. Both sides poll the app's port the same way.
//
//   NX_DAEMON=false npx nx run-many -t build && node tools/bench/deploy/run.mjs [--rounds 3] [--broker amqp|memory]
// Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), DOCKER_SOCKET (default /var/run/docker.sock)
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import amqplib from 'amqplib';
import Docker from 'dockerode';
import { AmqpBroker, MemoryBroker } from '@kraken/broker';
import { noopLogger } from '@kraken/common';
import { DockerDeployer, Label, defaultTemplatesDir, imageTag } from '@kraken/docker-deployer';
import { MessageType, createMessage } from '@kraken/messages';
import { Worker } from '@kraken/worker';

const HELP = `Usage: node tools/bench/deploy/run.mjs [options]

Measures request -> first HTTP 200 of a small node app deployed through Kraken (deploy.request to a
Worker with DockerDeployer) against the same steps by hand (git clone, docker build with the same
node template and context, docker run, poll for 200), cold (build cache misses the app's layers)
and warm (all layers cached). Prints each time and the median ratios Kraken/hand.
Build first: NX_DAEMON=false npx nx run-many -t build
Needs the Docker engine with kraken-base/node:20 (bash dockerfiles/build-base-images.sh node) and,
for --broker amqp, RabbitMQ (bash tools/services/services.sh up).

Options:
  --rounds N              rounds of each mode (cold, warm), alternating which side goes first (default 3)
  --broker amqp|memory    broker between the request and the Worker (default amqp: RabbitMQ)
  --poll-ms N             interval of the HTTP poll on both sides (default 50)
  --timeout S             give up on one deploy after S seconds (default 180)
  --help                  this text

Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), DOCKER_SOCKET (default /var/run/docker.sock)`;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    broker: { type: 'string', default: 'amqp' },
    'poll-ms': { type: 'string', default: '50' },
    timeout: { type: 'string', default: '180' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const positiveInt = (name) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(values[name])}`);
    process.exit(2);
  }
  return value;
};
const rounds = positiveInt('rounds');
const pollMs = positiveInt('poll-ms');
const timeoutMs = positiveInt('timeout') * 1000;
if (values.broker !== 'amqp' && values.broker !== 'memory') {
  console.error(`--broker must be amqp or memory, got ${JSON.stringify(values.broker)}`);
  process.exit(2);
}
const url = process.env.KRAKEN_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const socketPath = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
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
async function fixtureRepo(dir, nonce) {
  await mkdir(dir, { recursive: true });
  const files = {
    'shipwreck.toml': `[app]\nname = "${APP_NAME}"\nversion = "1.0.0"\nendpoint = "/"\n\n[config]\nlang = "node"\nport = ${APP_PORT}\nrun = "node server.js"\n`,
    'package.json': `${JSON.stringify({ name: 'bench-deploy', version: '1.0.0', private: true, description: `deploy bench ${nonce}`, scripts: { start: 'node server.js' } }, null, 2)}\n`,
    'server.js': SERVER,
    // the deployer never sends .git; the docker CLI would, so the hand build gets the same context
    '.dockerignore': '.git\n',
  };
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  const git = (...args) => execFileSync('git', ['-c', 'user.name=Kraken Bench', '-c', 'user.email=bench@kraken.invalid', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '--quiet', '--initial-branch', 'main');
  git('add', '--all');
  git('commit', '--quiet', '--message', 'bench fixture');
  return dir;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function httpStatus(port) {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** Polls until the app answers 200; the same loop for both sides. */
async function pollFor200(port, deadline, failed = () => undefined) {
  for (;;) {
    if ((await httpStatus(port)) === 200) return performance.now();
    const reason = failed();
    if (reason !== undefined) throw new Error(reason);
    if (performance.now() > deadline) throw new Error(`no HTTP 200 on port ${port} within ${timeoutMs / 1000} s`);
    await sleep(pollMs);
  }
}

/** Id of the untagged image the template's context stage leaves, from legacy-builder output. */
function contextStageImage(buildLines) {
  const at = buildLines.findIndex((text) => /^Step \d+\/\d+ : COPY \. \/src\/$/.test(text.trim()));
  if (at < 0) return undefined;
  const id = buildLines.slice(at + 1).find((text) => /^ ---> [0-9a-f]{12}$/.test(text.trimEnd()));
  return id?.trim().slice(5);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cleanup = [];
/** Images kept until the end: they hold the warm layer chain (removing one would drop its parents). */
const keptImages = [];
let exitCode = 0;

try {
  console.log(
    `deploy bench: request -> first HTTP 200 of a node app, Kraken (deploy.request over ${values.broker === 'amqp' ? 'AmqpBroker/RabbitMQ' : 'MemoryBroker'} -> Worker -> DockerDeployer) vs by hand (git clone && docker build && docker run && poll), cold and warm build cache, ${rounds} rounds each (alternating), poll every ${pollMs} ms`,
  );
  await docker.ping();
  await docker.getImage('kraken-base/node:20').inspect().catch(() => {
    throw new Error('kraken-base/node:20 is missing: run bash dockerfiles/build-base-images.sh node');
  });
  const work = await mkdtemp(path.join(os.tmpdir(), 'kraken-bench-deploy-'));
  cleanup.push(() => rm(work, { recursive: true, force: true }));
  // context-stage images: removed at the very end, after every image that might share them
  const contextImages = new Set();
  cleanup.push(async () => {
    for (const id of contextImages) await docker.getImage(id).remove().catch(() => undefined);
  });
  cleanup.push(async () => {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${Label.Node}=${nodeId}`] } });
    const hand = await docker.listContainers({ all: true, filters: { label: [handLabel] } });
    await Promise.all([...containers, ...hand].map((info) => docker.getContainer(info.Id).remove({ force: true })));
    for (const tag of keptImages) await docker.getImage(tag).remove().catch(() => undefined);
    const images = await docker.listImages({ filters: { label: [`${Label.Node}=${nodeId}`] } });
    for (const image of images) await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
  });

  // ---- Kraken: a Worker on its own queues, an orchestrator side that sends requests and reads statuses
  let workerBroker;
  let orchestrator;
  if (values.broker === 'amqp') {
    cleanup.push(async () => {
      const connection = await amqplib.connect(url);
      const channel = await connection.createChannel();
      for (const queue of Object.values(queues)) await channel.deleteQueue(queue);
      await connection.close();
    });
    workerBroker = await AmqpBroker.create({ url });
    orchestrator = await AmqpBroker.create({ url });
    cleanup.push(() => orchestrator.close(), () => workerBroker.close());
  } else {
    // one in-process broker: both sides talk through it, as on a single node without RabbitMQ
    workerBroker = new MemoryBroker();
    orchestrator = workerBroker;
    cleanup.push(() => workerBroker.close());
  }
  await orchestrator.declareQueue(queues.orchestrator);
  await orchestrator.declareQueue(queues.telemetry, { class: 'telemetry' });
  await orchestrator.declareQueue(queues.node);
  const statusWaiters = new Map();
  const lastStatus = new Map();
  await orchestrator.consume(queues.orchestrator, (delivery) => {
    if (delivery.message.type !== MessageType.DeployStatus) return;
    const body = delivery.message.body;
    lastStatus.set(body.deploymentId, { ...body, seenAt: performance.now() });
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
  const deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work, 'worker'), logger: noopLogger, readyTimeout: `${timeoutMs}ms` });
  const worker = await Worker.create({ broker: workerBroker, deployer, engine: docker, nodeId, logger: noopLogger, options: { queues } });
  cleanup.push(() => worker.stop());

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
    const ok = await pollFor200(hostPort, deadline, errored);
    const running = await waitStatus(deploymentId, ['Running', 'Errored'], deadline);
    if (running.status !== 'Running') throw new Error(errored());
    await command(MessageType.DeployCancel, { deploymentId, reason: 'deploy bench round done' });
    await waitStatus(deploymentId, ['Destroyed', 'Errored'], performance.now() + 60_000);
    const tag = imageTag(APP_NAME, deploymentId);
    if (keep) keptImages.push(tag);
    else await docker.getImage(tag).remove().catch(() => undefined);
    const contextImage = contextStageImage(buildLines.get(deploymentId) ?? []);
    if (contextImage !== undefined) contextImages.add(contextImage);
    buildLines.delete(deploymentId);
    return { seconds: (ok - start) / 1000, runningSeconds: (Math.max(running.seenAt, ok) - start) / 1000 };
  }

  async function handDeploy(repo, name, { keep = false } = {}) {
    const dir = path.join(work, 'hand', name);
    const tag = `kraken-bench-hand/${runId}:${name}`;
    const hostPort = await freePort();
    const start = performance.now();
    const deadline = start + timeoutMs;
    await run('git', ['clone', '--quiet', '--branch', 'main', repo, dir]);
    // the template goes into the context, as the deployer puts it: with -f outside the context the
    // docker CLI rewrites .dockerignore in the tar on every build, so COPY . would never hit the cache
    await copyFile(TEMPLATE, path.join(dir, '.kraken.Dockerfile'));
    const build = await run('docker', ['build', '-f', path.join(dir, '.kraken.Dockerfile'), '--build-arg', `PORT=${APP_PORT}`, '--label', handLabel, '-t', tag, dir], { env: dockerEnv, maxBuffer: 64 * 1024 * 1024 });
    // the same container settings as the deployer's: tini, PORT, the default limits, the app command
    await run(
      'docker',
      ['run', '-d', '--init', '--name', `kraken-bench-hand-${runId}-${name}`, '--label', handLabel, '-p', `${hostPort}:${APP_PORT}`, '-e', `PORT=${APP_PORT}`, '--memory', '512m', '--cpus', '1', tag, 'sh', '-c', 'node server.js'],
      { env: dockerEnv },
    );
    const ok = await pollFor200(hostPort, deadline);
    await docker.getContainer(`kraken-bench-hand-${runId}-${name}`).remove({ force: true });
    if (keep) keptImages.push(tag);
    else await docker.getImage(tag).remove().catch(() => undefined);
    const contextImage = contextStageImage(build.stdout.split('\n'));
    if (contextImage !== undefined) contextImages.add(contextImage);
    await rm(dir, { recursive: true, force: true });
    return { seconds: (ok - start) / 1000 };
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
        console.log(`  round ${round} ${mode} ${side.padEnd(6)} ${result.seconds.toFixed(2).padStart(6)} s to first 200${extra}`);
      }
    }
  }

  let met = true;
  for (const mode of ['cold', 'warm']) {
    const kraken = median(results[mode].kraken.map((r) => r.seconds));
    const hand = median(results[mode].hand.map((r) => r.seconds));
    const running = median(results[mode].kraken.map((r) => r.runningSeconds));
    const ratio = kraken / hand;
    met &&= ratio <= 1 + TARGET_OVERHEAD;
    console.log(
      `${mode}: median hand ${hand.toFixed(2)} s, Kraken ${kraken.toFixed(2)} s to first 200 (Running status ${running.toFixed(2)} s); ratio Kraken/hand ${(ratio * 100).toFixed(1)}% (${((ratio - 1) * 100).toFixed(1)}% added)`,
    );
  }
  console.log(`target: Kraken adds at most ${TARGET_OVERHEAD * 100}% (cold and warm): ${met ? 'MET' : 'NOT MET'}`);
} catch (error) {
  console.error(`deploy bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  exitCode = 1;
} finally {
  // every step is attempted, newest first, so a failed run leaves nothing behind
  for (const step of cleanup.reverse()) {
    await Promise.resolve()
      .then(step)
      .catch((error) => console.warn(`cleanup step failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}
process.exit(exitCode);
