#!/usr/bin/env node
// A seeded chaos run on the netns cluster harness: a leader and workers (process runtime), a
// workload of creates, cancels and redeploys through the API, and meanwhile one fault at a time on
// a worker host (crash, SIGSTOP, cut link, 30% packet loss, 200 ms delay on its broker link; with
// --leader-faults a crash of its RabbitMQ node instead of the delay; with --engines the workers run
// Docker engines of their own, and a restart of one joins the faults) or an app (SIGKILL). Once the schedule ends and the cluster
// settles, it checks the invariants (schedule.ts) and prints them as a table, with per-deployment
// log gaps and agent memory before and after. The same seed replays the same schedule.
//
//   NX_DAEMON=false npx nx run-many -t build && node tools/chaos/run.mjs [--seed N] [--minutes M]
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasExited, parseProcStat } from '@kraken/common';
import { commitFiles, eventually, gitFixtureRepo, manifestToml, startNetnsDockerd } from '@kraken/testing';
import { errorText, labHarness } from '../bench/lab.mjs';

const HELP = `Usage: node tools/chaos/run.mjs [--seed N] [--minutes M] [--settle-minutes S] [--leader-faults | --engines]   (root, Node 24)

Runs a 3-host Kraken cluster in network namespaces (a leader and two workers, process runtime),
creates, cancels and redeploys apps through the API while one fault at a time hits a worker host
(crash of every process on it, SIGSTOP of its agent, a cut link, 30% packet loss, 200 ms added
each way to its broker traffic) or one app's process is killed; a quarter of the apps flood their
log. With --leader-faults the two others are standbys (each agent runs a member of the cluster's
RabbitMQ cluster, as kraken agent does with rabbitmq-server installed) and faults hit any host, the
leader's too, with a SIGKILL of a host's RabbitMQ node instead of the delay. With --engines the
workers run Docker apps on a Docker engine of their own each (the leader keeps the process runtime),
and a restart of a worker's engine (SIGTERM, started again later) joins the faults. Then it lets the
cluster settle and checks: every acknowledged create persisted; none stuck in a non-final status;
each one not cancelled RUNNING, exactly once, answering HTTP with its last acknowledged version;
each cancelled one DESTROYED with nothing left running. Prints the table, the log gaps per
deployment and each agent's memory before and after; exits 1 when an invariant fails, naming the seed.
  --seed N            the schedule's seed (default: a random one, printed)
  --minutes M         how long faults and operations go on (default 3)
  --settle-minutes S  how long the cluster may take to settle afterwards (default 4)
  --leader-faults     standbys instead of workers, and faults on the leader's host too
  --engines           workers with a Docker engine each, and engine restarts among the faults`;

const { values: flags } = parseArgs({
  options: { seed: { type: 'string' }, minutes: { type: 'string', default: '3' }, 'settle-minutes': { type: 'string', default: '4' }, help: { type: 'boolean' }, 'leader-faults': { type: 'boolean', default: false }, engines: { type: 'boolean', default: false } },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const seed = flags.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(flags.seed);
const durationMs = Number(flags.minutes) * 60_000;
const settleMs = Number(flags['settle-minutes']) * 60_000;
if (!Number.isInteger(seed) || seed < 0 || !(durationMs > 0) || !(settleMs > 0)) {
  console.error(`chaos: --seed must be a whole number of 0 or more and --minutes, --settle-minutes positive\n\n${HELP}`);
  process.exit(2);
}
if (flags['leader-faults'] && flags.engines) {
  console.error(`chaos: --leader-faults and --engines are two modes; pick one\n\n${HELP}`);
  process.exit(2);
}

// the schedule and the harness are .ts files, which Node 24 runs itself; an older Node would fail on the import less clearly
if (!process.features.typescript) {
  console.error(`chaos: run it on Node 24 (this is ${process.version}, which runs no .ts file): source tools/node/use-node.sh && use_node 24`);
  process.exit(2);
}
const { FAULT_KINDS_BY_MODE, chaosSchedule, leaderVerdict, logGaps, table, verdicts } = await import('./schedule.ts');

const HOSTS = 3;
/** How long the next fault waits for the cluster to be whole again after the last one. */
const WHOLE_WAIT_MS = 120_000;
/** The delay fault's added latency, each way. */
const DELAY_MS = 200;
const leaderFaults = flags['leader-faults'];
/** Workers with a Docker engine of their own each (host -> NetnsDockerd), filled once the lab exists. */
const engines = new Map();
/**
 * The node template's base image (what `lang = "node"` builds FROM), built by
 * dockerfiles/build-base-images.sh: copied into each lab engine, which has no registry to pull from.
 */
const BASE_IMAGE = 'kraken-base/node:20';
const run = promisify(execFile);
/** Every agent's whole output (each run of it), kept after the lab is gone, for a failed run. */
const agentOutputs = new Map();
/** How each host's agent starts (again): host 1 founds the cluster; the others may lead with --leader-faults. */
const agentArgs = (host) => {
  if (host === 1) return ['--priority', '0'];
  const engine = engines.get(host);
  return ['--priority', leaderFaults ? '1' : '2', ...(engine === undefined ? [] : ['--runtime', 'docker', '--docker-socket', engine.socketPath])];
};
/** Hosts under a fault now: the API is asked through another one. */
const injured = new Set();
function log(text) {
  console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

const mode = leaderFaults ? 'leader-faults' : flags.engines ? 'engines' : 'workers';
const schedule = chaosSchedule({ seed, durationMs, faultHosts: leaderFaults ? [1, 2, 3] : [2, 3], kinds: FAULT_KINDS_BY_MODE[mode] });
log(`seed ${seed}: ${schedule.faults.length} faults and ${schedule.operations.length} operations over ${flags.minutes} min`);

const { startClusterHarness } = await labHarness('chaos');
const dir = await mkdtemp(path.join(os.tmpdir(), 'kraken-chaos-'));
const instancesDir = path.join(dir, 'instances');
// the apps run as the agents' unprivileged app user: they record themselves here, as /tmp lets anyone
chmodSync(dir, 0o711);
mkdirSync(instancesDir);
chmodSync(instancesDir, 0o1777);
// the workers reach the machine's RabbitMQ through relays of the harness, which the delay fault slows
const cluster = await startClusterHarness({ hosts: HOSTS, name: 'kx', managedBroker: leaderFaults, relayedHosts: leaderFaults ? [] : [2, 3] });
let exitCode = 1;
try {
  exitCode = await runChaos();
} catch (error) {
  console.error(`chaos: the run itself failed (seed ${seed}): ${errorText(error)}`);
  await saveAgentLogs();
} finally {
  await cluster.destroy();
  await Promise.all([...engines.values()].map((engine) => engine.destroy()));
  await rm(dir, { recursive: true, force: true });
}
process.exit(exitCode);

async function runChaos() {
  const gql = (query, variables = {}) => cluster.graphql(api(), query, { variables, timeoutMs: 15_000 });
  if (flags.engines) await startEngines();

  recordOutput(cluster.start(1, agentArgs(1)));
  await cluster.agents[1]?.process.waitFor(/Kraken is running/, 180_000);
  // one at a time: each standby's RabbitMQ node joins the cluster's
  for (let host = 2; host <= HOSTS; host += 1) {
    recordOutput(cluster.start(host, [...agentArgs(host), '--join', api()]));
    if (leaderFaults) await cluster.agents[host]?.process.waitFor(/agent running/, 240_000);
  }
  await eventually(async () => (await gql('{ getNodes { state } }')).getNodes.filter((node) => node.state === 'ALIVE').length === HOSTS, 120_000, 'every node alive', 1_000);
  const memoryBefore = agentMemory();
  log(`cluster formed: ${HOSTS} nodes alive`);

  /** Everything the run did to each deployment it created. */
  const created = [];
  const unacknowledged = [];
  const operate = async (operation, index) => {
    const alive = created.filter((deployment) => !deployment.cancelled);
    const target = alive[Math.floor(operation.pick * alive.length)];
    if (operation.kind === 'create' || target === undefined) {
      const name = `chaos-${index}${operation.noisy ? '-noisy' : ''}`;
      const repo = await appRepo(name, operation.noisy);
      try {
        const { createDeployment: id } = await gql(
          'mutation($url: String!, $name: String!, $env: [EnvVarInput!]) { createDeployment(deploymentUrl: $url, gitBranch: "main", name: $name, env: $env) }',
          { url: repo, name, env: [{ name: 'CHAOS_DIR', value: instancesDir }, { name: 'CHAOS_NAME', value: name }] },
        );
        created.push({ id, name, repo, cancelled: false, versions: { acknowledged: 1, pushed: 1 } });
        log(`create ${name}: ${id}`);
      } catch (error) {
        unacknowledged.push(`create ${name}: ${errorText(error)}`);
      }
    } else if (operation.kind === 'cancel') {
      try {
        await gql('mutation($id: String!) { cancelDeployment(deploymentId: $id) }', { id: target.id });
        target.cancelled = true;
        log(`cancel ${target.name}`);
      } catch (error) {
        // no answer at all (a timeout, a connection cut): the cancel may have happened anyway
        if (error instanceof Error && /TimeoutError|aborted|fetch failed|ECONNRESET|socket hang up/i.test(`${error.name} ${error.message}`)) target.maybeCancelled = true;
        unacknowledged.push(`cancel ${target.name}: ${errorText(error)}`);
      }
    } else {
      const version = target.versions.pushed + 1;
      await commitFiles(target.repo, { 'version.json': JSON.stringify({ version }) }, `version ${version}`);
      target.versions.pushed = version;
      try {
        const { pollRedeploy } = await gql('mutation($id: String!) { pollRedeploy(deploymentId: $id) }', { id: target.id });
        if (pollRedeploy) target.versions.acknowledged = version;
        log(`redeploy ${target.name} to v${version}: ${pollRedeploy ? 'started' : 'not started'}`);
      } catch (error) {
        unacknowledged.push(`redeploy ${target.name} v${version}: ${errorText(error)}`);
      }
    }
  };
  const injure = async (fault) => {
    log(`fault: ${fault.kind} host ${fault.host} for ${(fault.forMs / 1000).toFixed(1)} s`);
    if (fault.kind !== 'app-crash') injured.add(fault.host);
    const heal = await inflict(fault);
    await sleep(fault.forMs);
    await heal();
    injured.delete(fault.host);
    log(`healed: ${fault.kind} host ${fault.host}`);
  };

  const started = Date.now();
  const at = (atMs) => sleep(Math.max(0, started + atMs - Date.now()));
  await Promise.all([
    ...schedule.operations.map(async (operation, index) => {
      await at(operation.atMs);
      await operate(operation, index + 1);
    }),
    (async () => {
      for (const fault of schedule.faults) {
        await at(fault.atMs);
        await untilWhole();
        await injure(fault);
      }
    })(),
  ]);
  log(`schedule done; settling (up to ${flags['settle-minutes']} min)`);

  let observed = [];
  let leaders = [];
  const allVerdicts = () => [...verdicts(observed), leaderVerdict(leaders)];
  const settled = await eventually(
    async () => {
      observed = await observe(created, gql);
      leaders = await leaderViews();
      return allVerdicts().every((verdict) => verdict.passed);
    },
    settleMs,
    'the cluster settled',
    3_000,
  ).then(() => true, () => false);
  log(settled ? `settled ${((Date.now() - started - durationMs) / 1000).toFixed(0)} s after the schedule` : 'did not settle in time: the verdicts below are from the last look');

  const results = allVerdicts();
  console.log(`\nchaos run, seed ${seed}, ${flags.minutes} min, ${schedule.faults.length} faults (${countBy(schedule.faults.map((f) => f.kind))}), operations: ${countBy(schedule.operations.map((o) => o.kind))}`);
  console.log(table([['invariant', 'result', 'detail'], ...results.map((v) => [v.invariant, v.passed ? 'ok' : 'FAILED', v.detail])]));
  console.log(`\n${table([['deployment', 'status', 'instances', 'version', 'log gaps'], ...observed.map((d) => [d.name, d.status ?? 'unknown', String(d.instances), `v${String(d.servedVersion ?? '-')}`, String(d.logGaps)])])}`);
  const memoryAfter = agentMemory();
  console.log(`\n${table([['agent', 'RSS before', 'RSS after'], ...memoryBefore.map((before, index) => [`agent-${index + 1}`, mb(before), mb(memoryAfter[index])])])}`);
  if (unacknowledged.length > 0) console.log(`\nnot acknowledged by the API (allowed under faults, not counted as lost):\n  ${unacknowledged.join('\n  ')}`);
  const failed = results.filter((verdict) => !verdict.passed);
  if (failed.length > 0) {
    for (const instance of (await liveInstances()).sort((a, b) => a.name.localeCompare(b.name))) console.log(`live: ${instance.name} ${instance.id} ${instance.about}`);
  }
  // a failed run's logs are always kept; a passing one's on request (log gaps, memory to look into)
  if (failed.length > 0 || process.env.CHAOS_KEEP_LOGS === '1') await saveAgentLogs();
  console.log(failed.length === 0 ? `\nchaos: every invariant held (seed ${seed})` : `\nchaos: ${failed.length} invariant(s) failed; replay with --seed ${seed}`);
  return failed.length === 0 ? 0 : 1;
}

/**
 * One fault at a time means one fault's effects at a time: a host back from a fault may still be
 * rejoining (its agent following the leader again, its RabbitMQ node rejoining the cluster's), and
 * a fault on another host meanwhile takes two hosts out of three. Up to WHOLE_WAIT_MS, then the
 * fault comes anyway (the verdicts judge the end).
 */
async function untilWhole() {
  const started = Date.now();
  const whole = await eventually(isWhole, WHOLE_WAIT_MS, 'the cluster whole again', 2_000).then(() => true, () => false);
  const waitedS = ((Date.now() - started) / 1000).toFixed(0);
  if (!whole) log(`  the cluster is not whole after ${waitedS} s; the next fault comes anyway`);
  else if (Date.now() - started > 2_000) log(`  the cluster is whole again (waited ${waitedS} s)`);
}

/** Every agent names one leader and sees every node alive; with --leader-faults, every RabbitMQ node runs in the cluster. */
async function isWhole() {
  if (!leaderVerdict(await leaderViews()).passed) return false;
  const { getNodes } = await cluster.graphql(api(), '{ getNodes { state } }', { timeoutMs: 5_000 });
  if (getNodes.filter((node) => node.state === 'ALIVE').length !== HOSTS) return false;
  if (!leaderFaults) return true;
  const status = JSON.parse(await cluster.rabbitCli(1, 'rabbitmqctl', ['cluster_status', '--formatter', 'json']));
  return Array.isArray(status.running_nodes) && status.running_nodes.length === HOSTS;
}

/** The API of a host under no fault (every agent answers it, forwarding to whichever leads). */
function api() {
  for (let host = 1; host <= HOSTS; host += 1) if (!injured.has(host) && cluster.agents[host] !== undefined) return cluster.agents[host].apiUrl;
  return cluster.agents[1]?.apiUrl ?? '';
}

function recordOutput(agent) {
  if (agent !== undefined) agentOutputs.set(`agent-${agent.index}`, [...(agentOutputs.get(`agent-${agent.index}`) ?? []).filter((p) => p !== agent.process), agent.process]);
}
async function saveAgentLogs() {
  const keep = path.join(process.env.CHAOS_LOG_DIR ?? path.join(os.tmpdir(), `kraken-chaos-seed-${seed}-logs`));
  mkdirSync(keep, { recursive: true });
  for (const [name, runs] of agentOutputs) await writeFile(path.join(keep, `${name}.log`), runs.map((run, index) => `===== run ${index + 1}\n${run.output()}`).join('\n'));
  console.log(`agents' logs kept in ${keep}`);
}

/** Does `fault` to its host; resolves to what undoes it. */
async function inflict({ kind, host, pick }) {
  switch (kind) {
    case 'app-crash': {
      const live = (await liveInstances()).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
      const victim = live[Math.floor(pick * live.length)];
      if (victim !== undefined) {
        log(`  SIGKILL to ${victim.name} (${victim.id})`);
        await victim.kill().catch((error) => log(`  ${victim.name} (${victim.id}) was gone already: ${errorText(error)}`));
      }
      return async () => undefined;
    }
    case 'crash':
      await cluster.killHost(host);
      // the machine's Docker engine and its containers die with it (lab.killHost leaves the
      // containers, which have network namespaces of their own)
      await engines.get(host)?.kill();
      return async () => {
        // a machine that boots again starts its engine before its agent, as docker.service does
        await engines.get(host)?.start();
        // it joins whichever leads now, through a host under no fault (api() skips this one)
        recordOutput(cluster.start(host, [...agentArgs(host), '--join', api()]));
        // until its agent is up (a standby's RabbitMQ node rejoins first), its API is asked nothing
        await cluster.agents[host]?.process.waitFor(leaderFaults ? /agent running/ : /joined the cluster|Kraken is running/, 240_000).catch(() => undefined);
      };
    case 'pause':
      cluster.pause(host);
      return async () => cluster.resume(host);
    case 'cut':
      await cluster.cut(host);
      return () => cluster.restore(host);
    case 'loss':
      await cluster.lab.impair(host, { lossPercent: 30 });
      return () => cluster.lab.clearImpairment(host);
    case 'delay':
      cluster.delayBroker(host, DELAY_MS);
      return async () => cluster.delayBroker(host, 0);
    case 'broker-crash': {
      const agent = cluster.agents[host];
      const mark = agent?.process.output().length ?? 0;
      const group = await cluster.killBroker(host).catch((error) => {
        // not a verdict on Kraken: the run found nothing to kill, and says so
        log(`  no RabbitMQ node to kill on host ${host}: ${errorText(error)}`);
        return undefined;
      });
      if (group === undefined) return async () => undefined;
      log(`  SIGKILL to host ${host}'s RabbitMQ node (process group ${group})`);
      // its agent restarts the node by itself (its supervisor, or its start again when it lost the
      // lease meanwhile); the fault is over once it says so, so the next one never meets a node
      // still booting from this one
      return () =>
        eventually(() => /RabbitMQ node (restarted|ready)/.test((agent?.process.output() ?? '').slice(mark)), 240_000, `host ${host}'s RabbitMQ node up again`, 1_000).catch(
          (error) => log(`  ${errorText(error)}`),
        );
    }
    case 'engine-restart': {
      const engine = engines.get(host);
      if (engine === undefined) throw new Error(`chaos: host ${host} runs no Docker engine (engine-restart needs --engines)`);
      const stopping = Date.now();
      await engine.stop();
      log(`  host ${host}'s Docker engine stopped (SIGTERM; it took ${((Date.now() - stopping) / 1000).toFixed(1)} s to stop its containers and exit); its agent keeps running`);
      // the same data root and socket: its containers come back as their restart policy says
      return () => engine.start();
    }
    default:
      throw new Error(`chaos: unknown fault ${kind}`);
  }
}

/**
 * A Docker engine of its own for each worker host (its agent's runtime), holding the base image the
 * node template builds FROM.
 */
async function startEngines() {
  for (const host of [2, 3]) {
    const engine = await startNetnsDockerd(cluster.lab, host);
    engines.set(host, engine);
    await run('sh', ['-c', 'docker save "$0" | docker -H "unix://$1" load', BASE_IMAGE, engine.socketPath], { timeout: 300_000 });
  }
  log(`Docker engines on hosts ${[...engines.keys()].join(' and ')}, each with ${BASE_IMAGE}`);
}

/** One repository per app, so a redeploy of one moves no other's branch. A noisy one floods its log. */
async function appRepo(name, noisy) {
  return gitFixtureRepo(path.join(dir, 'repos', name), {
    'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', name),
    'version.json': JSON.stringify({ version: 1 }),
    // a process records its pid where the run can count live instances (a container, which cannot
    // see that folder, is counted by its engine), and each instance ticks in its log so gaps show:
    // its pid and start time tell it apart (a container's pid repeats when its engine restarts it)
    'server.js': `const fs = require('fs'), http = require('http'), path = require('path');
const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, 'version.json'), 'utf8'));
// its start time (field 22 of /proc/self/stat) names this process, whose pid a later one may reuse
const stat = fs.readFileSync('/proc/self/stat', 'utf8');
const started = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
if (fs.existsSync(process.env.CHAOS_DIR)) fs.writeFileSync(path.join(process.env.CHAOS_DIR, process.env.CHAOS_NAME + '.' + process.pid), 'v' + version + ' port ' + process.env.PORT + ' in ' + process.cwd() + ' started ' + started);
const instance = process.pid + '.' + Date.now();
let tick = 0;
setInterval(() => console.log('chaos ' + instance + ' tick ' + tick++), 500);
${noisy ? "setInterval(() => { for (let i = 0; i < 200; i++) console.log('noise '.repeat(20) + i); }, 100);\n" : ''}http.createServer((q, s) => s.end(process.env.CHAOS_NAME + ' v' + version)).listen(process.env.PORT);
`,
  });
}

/**
 * Every app instance alive now, on any host: a process records `<name>.<pid>` when it starts; a
 * running container on any lab engine is found by the labels Kraken puts on its app containers.
 */
async function liveInstances() {
  const live = [];
  for (const file of await readdir(instancesDir)) {
    const pid = Number(file.slice(file.lastIndexOf('.') + 1));
    // what it wrote: its version, port and folder (which agent's data dir it runs from), and its start time
    const about = readFileSync(path.join(instancesDir, file), 'utf8');
    if (isAlive(pid, / started (\d+)$/.exec(about)?.[1])) live.push({ name: file.slice(0, file.lastIndexOf('.')), id: `pid ${pid}`, about, kill: async () => process.kill(pid, 'SIGKILL') });
  }
  for (const [host, engine] of engines) live.push(...(await runningContainers(host, engine)));
  return live;
}

/** Kraken's running app containers on one lab engine (org.kraken.* labels, docker-deployer's labels.ts). */
async function runningContainers(host, engine) {
  const docker = (...args) => run('docker', ['-H', `unix://${engine.socketPath}`, ...args], { timeout: 30_000 }).then(({ stdout }) => stdout.trim());
  const rows = await docker('ps', '--filter', 'label=org.kraken.role=app', '--filter', 'status=running', '--format', '{{.ID}}\t{{.Label "org.kraken.app"}}\t{{.Label "org.kraken.deployment"}}\t{{.Label "org.kraken.node"}}');
  return rows
    .split('\n')
    .filter(Boolean)
    .map((row) => {
      const [container = '', name = '', deployment = '', node = ''] = row.split('\t');
      return {
        name,
        id: `container ${container}`,
        about: `${deployment} by ${node} on host ${host}'s engine`,
        // its process, not `docker kill`, which would count as a stop and keep the restart policy from restarting it
        kill: async () => process.kill(Number(await docker('inspect', '--format', '{{.State.Pid}}', container)), 'SIGKILL'),
      };
    });
}

/** What each created deployment looks like now: its status in the API, live instances, its answer and log. */
async function observe(created, gql) {
  const { getDeployments } = await gql('{ getDeployments { id status deploymentUrl srcUrl } }');
  const live = await liveInstances();
  const observed = [];
  for (const deployment of created) {
    const row = getDeployments.find((candidate) => candidate.id === deployment.id);
    const instances = live.filter((instance) => instance.name === deployment.name).length;
    let answers = false;
    let servedVersion;
    if (row?.status === 'RUNNING' && row.deploymentUrl !== null) {
      const text = await fetch(row.deploymentUrl, { signal: AbortSignal.timeout(3_000) }).then((response) => (response.ok ? response.text() : ''), () => '');
      const match = new RegExp(`^${deployment.name} v(\\d+)$`).exec(text);
      answers = match !== null;
      servedVersion = match === null ? undefined : Number(match[1]);
    }
    observed.push({
      id: deployment.id,
      name: deployment.name,
      // a cancel that got no answer and then happened counts as one (it must have left nothing running)
      cancelled: deployment.cancelled || (deployment.maybeCancelled === true && row?.status === 'DESTROYED'),
      status: row?.status,
      // a record rebuilt from a node's report (adopted) has lost its source: the create was not kept
      sourceKept: row === undefined ? undefined : row.srcUrl === deployment.repo,
      instances,
      answers,
      versions: { ...deployment.versions },
      servedVersion,
      logGaps: logGaps(await logLines(gql, deployment.id)),
    });
  }
  return observed;
}

async function logLines(gql, deploymentId) {
  const lines = [];
  for (let after = 0; ; ) {
    const page = await gql('query($id: String!, $after: Int!) { logs(deploymentId: $id, after: $after, limit: 500) { lines { text } next } }', { id: deploymentId, after }).then(
      ({ logs }) => logs,
      () => undefined,
    );
    if (page === undefined || page.lines.length === 0) return lines;
    lines.push(...page.lines.map((line) => line.text));
    after = page.next;
  }
}

/**
 * Whether the app process that wrote its file still runs: the pid alone says nothing after a
 * while (pids wrap around at 32768 here, and a zombie answers a signal 0 too), so its start time
 * must match and it must not be a zombie whose threads are all gone.
 */
function isAlive(pid, startTime) {
  let stat;
  try {
    stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
  if (stat === undefined || hasExited(stat)) return false;
  return startTime === undefined || String(stat.startTime) === startTime;
}

/** Whom each agent's API names as leader, and in which term. */
async function leaderViews() {
  const views = [];
  for (let host = 1; host <= HOSTS; host += 1) {
    const agent = cluster.agents[host];
    const platform = await cluster
      .graphql(agent?.apiUrl ?? '', '{ getPlatform { orchestrator epoch } }', { timeoutMs: 5_000 })
      .then(({ getPlatform }) => getPlatform, () => undefined);
    views.push({ agent: `agent-${host}`, leader: platform?.orchestrator, epoch: platform?.epoch });
  }
  return views;
}

/** Each agent's resident memory in bytes; undefined for one that is gone. */
function agentMemory() {
  return cluster.agents.slice(1).map((agent) => {
    const pid = agent?.process.child.pid;
    if (pid === undefined || agent?.process.child.exitCode !== null || agent.process.child.signalCode !== null) return undefined;
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined;
    }
  });
}

function mb(bytes) {
  return bytes === undefined ? 'gone' : `${(bytes / 1_048_576).toFixed(0)} MB`;
}

/** "3 create, 1 cancel" */
function countBy(items) {
  const counts = new Map();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, count]) => `${count} ${item}`).join(', ') || 'none';
}
