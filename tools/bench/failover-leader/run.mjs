#!/usr/bin/env node
// Time from the leader's host dying to the API answering and a deploy being accepted, for Kraken
// (three agents that may lead, each with its own RabbitMQ node) against Docker Swarm (three
// managers), in the same run. Each side's hosts are network namespaces of a lab (needs root): the
// Kraken agents come from the cluster harness (tools/cluster/harness.ts, which node 24 runs as
// TypeScript), the Swarm managers are dockerds of their hosts' own (startNetnsDockerd). Killing a
// host is lab.killHost on both sides: SIGKILL to every process of it. Every round builds both
// clusters afresh and alternates which side goes first.
//
//   NX_DAEMON=false npx nx run-many -t build && node tools/bench/failover-leader/run.mjs [--rounds 5] [--smoke]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import {
  alternateRounds,
  errorText,
  firstAnswer as firstAnswerEvery,
  FORM_TIMEOUT_MS,
  formSwarm,
  labHarness,
  outputTails,
  percent,
  REQUEST_TIMEOUT_MS,
  seconds,
} from '../lab.mjs';
import { fixtureRepo, median, nodeManifest, parseFlags, runBench, verdict } from '../lib.mjs';

const HELP = `Usage: node tools/bench/failover-leader/run.mjs [options]   (root: it creates network-namespace labs)

Kills the leader's host (SIGKILL to every process of it) and times how long until the API answers
on another host and a deploy is accepted there, for Kraken (3 agents that may lead, each running its
own RabbitMQ node: a leader and two standbys) against Docker Swarm (3 managers, a dockerd per host).
Prints each round's times, the medians, and the ratios Kraken/Swarm.
Build first: NX_DAEMON=false npx nx run-many -t build. Needs root, Node 24 (it imports the cluster
harness, a .ts file) and rabbitmq-server and dockerd installed; not the machine's RabbitMQ or Docker
engine (every broker and engine runs in the labs), nor an image registry.

Options:
  --rounds N        rounds, each with a fresh cluster per side, alternating which goes first (default 5)
  --poll-ms N       after the kill, every N ms each surviving host is asked again (default 50)
  --timeout S       give up when a failover takes longer than S seconds (default 120)
  --only SIDE       kraken or swarm: that side alone, to look at it (no ratio then)
  --power-loss      pull the host's cable as its processes die: no connection reset reaches the other
                    hosts, as when a machine loses power (each side waits for its failure detector)
  --smoke           one round per side that proves the bench works end to end and prints its ratios
                    without judging them (what CI runs)
  --help            this text`;

const { values, numbers, smoke } = parseFlags(
  HELP,
  {
    rounds: { type: 'string', default: '5' },
    'poll-ms': { type: 'string', default: '50' },
    timeout: { type: 'string', default: '120' },
    only: { type: 'string' },
    'power-loss': { type: 'boolean', default: false },
  },
  { positive: ['rounds', 'poll-ms', 'timeout'], smoke: { rounds: '1' } },
);
const rounds = numbers.rounds;
const pollMs = numbers['poll-ms'];
const timeoutMs = numbers.timeout * 1000;
const sides = values.only === undefined ? ['kraken', 'swarm'] : [values.only];
if (!sides.every((side) => side === 'kraken' || side === 'swarm')) {
  console.error(`--only must be kraken or swarm, got ${JSON.stringify(values.only)}`);
  process.exit(2);
}
const powerLoss = values['power-loss'];
/** The host dies: with --power-loss its cable goes first, so its kernel answers nothing any more. */
async function killHost(lab, host) {
  if (powerLoss) await lab.cut(host);
  await lab.killHost(host);
}
/** The target: a deploy accepted at most 3 s after the leader's host died. */
const TARGET_MS = 3_000;
/** Not in any engine, and there is no registry: Swarm accepts the service, its task cannot start. */
const SWARM_IMAGE = 'kraken-bench/absent:1';

/** firstAnswer polling every --poll-ms unless told otherwise. */
const firstAnswer = (targets, ask, deadline, what, intervalMs = pollMs) =>
  firstAnswerEvery(targets, ask, deadline, what, intervalMs);

/**
 * The failover of one side: kill, then the API, then a deploy, as times since the kill. The deploy
 * goes to the host that answered, with the time left to be accepted (it is not idempotent: a
 * request given up on may still be carried out); a refusal is retried with a new name.
 */
async function timeFailover({ kill, survivors, answers, accepts, describe }) {
  await kill();
  const killedAt = performance.now();
  const deadline = killedAt + timeoutMs;
  let api;
  let deploy;
  try {
    api = await firstAnswer(survivors, answers, deadline, 'no surviving host answered the API');
    let attempt = 0;
    deploy = await firstAnswer(
      [api.target],
      (target) => accepts(target, ++attempt, Math.max(1, Math.ceil(deadline - performance.now()))),
      deadline,
      'no deploy was accepted',
    );
  } catch (error) {
    // what the survivors said last, for whoever reads the failure
    throw new Error(`${errorText(error)}\n${outputTails(survivors.map(describe))}`, { cause: error });
  }
  return {
    apiMs: api.at - killedAt,
    deployMs: deploy.at - killedAt,
    at: api.target,
    refused: deploy.refused,
    refusal: deploy.firstError,
    deploy: deploy.answer,
  };
}

/** Kraken: the harness's agents 1-3, priorities 0, 1, 1 (agent 1 founds the cluster, 2 and 3 are standbys). */
async function krakenRound({ startClusterHarness }, repo, cleanup) {
  const formedAt = performance.now();
  const cluster = await startClusterHarness({ hosts: 3, name: 'bench-failover', managedBroker: true });
  cleanup(() => cluster.destroy());
  try {
    const agents = [0, 1, 1].map((priority, i) => cluster.start(i + 1, ['--priority', String(priority)]));
    await Promise.all(agents.map((agent) => agent.process.waitFor(/agent running/, FORM_TIMEOUT_MS)));
    const graphql = (agent, query, variables = {}, timeoutMs = REQUEST_TIMEOUT_MS) =>
      cluster.graphql(agent.apiUrl, query, { variables, timeoutMs });
    const formDeadline = performance.now() + FORM_TIMEOUT_MS;
    // the leader is the orchestrator the API names; ready when its failover service counts two standbys
    const { answer: leaderId } = await firstAnswer(
      agents,
      async (agent) => {
        const { getPlatform, getPlatformServices } = await graphql(
          agent,
          '{ getPlatform { orchestrator } getPlatformServices { name status detail } }',
        );
        const failover = getPlatformServices.find((service) => service.name === 'failover');
        return failover?.status === 'up' && /standbys: [^,]+, [^ ]+ \(one takes over/.test(failover.detail)
          ? getPlatform.orchestrator
          : undefined;
      },
      formDeadline,
      'no leader with two standbys',
      500,
    );
    const leader = agents.find((agent) => `agent-${agent.index}` === leaderId);
    if (leader === undefined) throw new Error(`the API names ${leaderId} as the leader, which is none of the agents`);
    // every quorum queue has its replicas on the standbys' nodes: losing the leader's loses nothing
    await leader.process.waitFor(/the RabbitMQ cluster now survives losing a node/, FORM_TIMEOUT_MS);
    const formedMs = performance.now() - formedAt;

    const result = await timeFailover({
      kill: () => killHost(cluster.lab, leader.index),
      survivors: agents.filter((agent) => agent !== leader),
      describe: (agent) => ({ name: `agent-${agent.index}`, output: agent.process.output() }),
      // an answer from the dead leader's term (a survivor forwarding to it) does not count
      answers: async (agent) => {
        const { getPlatform } = await graphql(agent, '{ getPlatform { orchestrator epoch } }');
        return getPlatform.orchestrator === leaderId ? undefined : getPlatform;
      },
      accepts: async (agent, _attempt, requestTimeoutMs) => {
        const mutation = 'mutation($url: String!) { createDeployment(deploymentUrl: $url, gitBranch: "main") }';
        const { createDeployment } = await graphql(agent, mutation, { url: repo }, requestTimeoutMs);
        if (typeof createDeployment !== 'string')
          throw new Error(`createDeployment answered no id: ${JSON.stringify(createDeployment)}`);
        return createDeployment;
      },
    });
    return { ...result, formedMs, killed: leaderId, at: `agent-${result.at.index}`, detail: `deployment ${result.deploy}` };
  } finally {
    await cluster.destroy();
  }
}

/** Swarm: three managers (formSwarm); the leader's host is the one killed. */
async function swarmRound(round, cleanup) {
  const { lab, clients, leader, formedMs, destroy } = await formSwarm('bench-swarm', cleanup);
  const leaderName = leader.engine.host.name;
  try {
    const result = await timeFailover({
      kill: () => killHost(lab, leader.engine.host),
      survivors: clients.filter((client) => client !== leader),
      describe: ({ engine }) => ({ name: `dockerd in ${engine.host.name}`, output: engine.process.output() }),
      // a manager answers node ls once a leader is elected (until then the request waits, or fails with
      // "The swarm does not have a leader")
      answers: async ({ docker }) => (await docker.listNodes()).length,
      // what `docker service create --detach --no-resolve-image` sends: accepted once the raft log holds it
      accepts: async ({ engine }, attempt, requestTimeoutMs) => {
        const service = await new Docker({ socketPath: engine.socketPath, timeout: requestTimeoutMs }).createService({
          Name: `bench-failover-${round}-${attempt}`,
          TaskTemplate: { ContainerSpec: { Image: SWARM_IMAGE }, RestartPolicy: { Condition: 'none' } },
          Mode: { Replicated: { Replicas: 1 } },
        });
        if (typeof service.id !== 'string') throw new Error(`service create answered no id: ${JSON.stringify(service)}`);
        return service.id;
      },
    });
    return {
      ...result,
      formedMs,
      killed: leaderName,
      at: result.at.engine.host.name,
      detail: `service ${result.deploy.slice(0, 12)}`,
    };
  } finally {
    await destroy();
  }
}

await runBench('failover-leader', async (cleanup) => {
  const harness = await labHarness('failover-leader');

  const work = await mkdtemp(path.join(os.tmpdir(), 'kraken-bench-failover-'));
  cleanup(() => rm(work, { recursive: true, force: true }));
  const repo = await fixtureRepo(path.join(work, 'app'), {
    'shipwreck.toml': nodeManifest('bench-failover', 3000),
    'server.js': "require('node:http').createServer((request, response) => response.end('ok')).listen(process.env.PORT);\n",
  });
  console.log(
    `${rounds} round(s); each builds a fresh 3-host cluster per side, kills its leader's host${powerLoss ? ' (cable pulled first: --power-loss)' : ''}, polls the survivors every ${pollMs} ms`,
  );

  const results = await alternateRounds(
    rounds,
    sides,
    (side, round) => (side === 'kraken' ? krakenRound(harness, repo, cleanup) : swarmRound(round, cleanup)),
    (side, round, result) => {
      const refused = result.refused === 0 ? '' : `; refused ${result.refused} time(s) first: ${errorText(result.refusal)}`;
      console.log(
        `  round ${round} ${side.padEnd(6)} formed in ${seconds(result.formedMs).padStart(8)}; leader ${result.killed} killed: API answered at ${result.at} after ${seconds(result.apiMs)}, deploy accepted after ${seconds(result.deployMs)} (${result.detail}${refused})`,
      );
    },
  );

  console.log('');
  const medians = {};
  for (const side of sides) {
    const list = results[side];
    medians[side] = { api: median(list.map((r) => r.apiMs)), deploy: median(list.map((r) => r.deployMs)) };
    const perRound = (key) => list.map((r) => (r[key] / 1000).toFixed(2)).join(', ');
    console.log(
      `${side === 'kraken' ? 'Kraken' : 'Swarm '}: API answering after ${perRound('apiMs')} s (median ${seconds(medians[side].api)}); deploy accepted after ${perRound('deployMs')} s (median ${seconds(medians[side].deploy)})`,
    );
  }
  if (sides.length === 2) {
    console.log(
      `ratio Kraken/Swarm: API answering ${percent(medians.kraken.api / medians.swarm.api)}, deploy accepted ${percent(medians.kraken.deploy / medians.swarm.deploy)}`,
    );
  } else {
    console.log(`--only ${sides[0]}: no ratio`);
  }
  if (medians.kraken !== undefined) {
    verdict(
      smoke,
      `target: a deploy accepted at most ${seconds(TARGET_MS)} after the leader's host died (median): ${medians.kraken.deploy <= TARGET_MS ? 'MET' : 'NOT MET'} (${seconds(medians.kraken.deploy)})`,
    );
  }
});
