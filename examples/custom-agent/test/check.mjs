// Self-check (`npm test`): runs the built example against the RabbitMQ at KRAKEN_BROKER_URL and
// watches the broker for its node.info heartbeats, the way an orchestrator receives them. Two runs:
//   1. this machine's real sensors: a temperature when it has one, `temperature.sensor: "none"` if not;
//   2. a fake /sys/class/thermal whose readings the check changes, to see the periodic job at work.
// Exits 0 when every expectation was seen, 1 with the reason. The example is always stopped.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmqpBroker, redactUrl } from '@kraken/broker';
import { DeliveryClass, MessageType, Queues } from '@kraken/messages';

const exampleDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(exampleDir, 'dist', 'main.js');
const brokerUrl = process.env.KRAKEN_BROKER_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** How long each expectation may take; the example heartbeats every 2 s. */
const timeoutMs = Number(process.env.CHECK_TIMEOUT_MS ?? 30_000);
const SYSFS_THERMAL = '/sys/class/thermal';

class CheckFailed extends Error {}

/** Collects node.info from the orchestrator's telemetry queue and lets a step wait for one. */
class HeartbeatWatch {
  /** Older heartbeats may still sit in the queue from an earlier run with the same node id. */
  since = Date.now();
  last = new Map();
  waiters = new Set();

  onDelivery(delivery) {
    const message = delivery.message;
    if (message.type !== MessageType.NodeInfo || Date.parse(message.at) < this.since) return;
    this.last.set(message.body.nodeId, message.body);
    for (const waiter of this.waiters) {
      if (waiter.nodeId === message.body.nodeId && waiter.matches(message.body)) {
        this.waiters.delete(waiter);
        waiter.resolve(message.body);
      }
    }
  }

  waitFor(nodeId, what, matches) {
    return new Promise((resolve, reject) => {
      const waiter = { nodeId, matches, resolve, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const last = this.last.get(nodeId);
        const seen =
          last === undefined
            ? 'no node.info from it at all'
            : last.extensions === undefined
              ? 'its last node.info had no extensions field'
              : `its last node.info had extensions ${JSON.stringify(last.extensions)}`;
        reject(new CheckFailed(`no node.info from ${nodeId} with ${what} within ${timeoutMs} ms (${seen})`));
      }, timeoutMs);
      waiter.resolve = (body) => {
        clearTimeout(waiter.timer);
        resolve(body);
      };
      this.waiters.add(waiter);
    });
  }

  /** Stops waiting (a failed check should not sit out the remaining timeouts). */
  close() {
    for (const waiter of this.waiters) clearTimeout(waiter.timer);
    this.waiters.clear();
  }
}

const running = new Set();
const tempDirs = [];
// a check stopped by Ctrl-C or its CI step's timeout must not leave the example or files behind
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));

/** Starts the example, runs `steps`, then stops it with SIGTERM and expects a clean exit. */
async function withExample(label, env, steps) {
  const child = spawn(process.execPath, [entry], {
    cwd: exampleDir,
    env: { ...process.env, KRAKEN_BROKER_URL: brokerUrl, ...env },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  running.add(child);
  const output = [];
  let pending = '';
  const show = (line) => {
    output.push(line);
    process.stderr.write(`  [${label}] ${line}\n`);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(show);
  });
  child.stderr.on('end', () => {
    if (pending !== '') show(pending);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let stopping = false;
  const diedEarly = exited.then(({ code, signal }) => {
    if (!stopping)
      throw new CheckFailed(
        `the example (${label}) exited on its own (code ${code}, signal ${signal}); its last lines:\n${output.slice(-15).join('\n')}`,
      );
  });
  let failure;
  try {
    await Promise.race([steps(), diedEarly]);
  } catch (error) {
    failure = error;
  }
  stopping = true;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer;
  const result = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 15_000, undefined)))]);
  clearTimeout(timer);
  running.delete(child);
  if (result === undefined) child.kill('SIGKILL');
  // the first problem is the one to report: a failed step explains a messy stop, not the reverse
  if (failure !== undefined) throw failure;
  if (result === undefined) throw new CheckFailed(`the example (${label}) did not stop within 15 s of SIGTERM`);
  if (result.code !== 0)
    throw new CheckFailed(
      `the example (${label}) exited with code ${result.code} (signal ${result.signal}) after SIGTERM, expected 0`,
    );
}

function assertBasics(body) {
  if (body.protocolVersion !== 1) throw new CheckFailed(`expected protocolVersion 1, got ${body.protocolVersion}`);
  if (body.runtimes.length !== 0)
    throw new CheckFailed(`expected no runtimes (the example runs no apps), got ${JSON.stringify(body.runtimes)}`);
}

/** Zones this machine reports a temperature for, read the way the example reads them. */
function machineZones() {
  if (!existsSync(SYSFS_THERMAL)) return 0;
  return readdirSync(SYSFS_THERMAL).filter((name) => {
    if (!/^thermal_zone\d+$/.test(name)) return false;
    try {
      return Number.isInteger(Number(readFileSync(join(SYSFS_THERMAL, name, 'temp'), 'utf8').trim()));
    } catch {
      return false;
    }
  }).length;
}

function fakeZone(dir, zone, type, temp) {
  mkdirSync(join(dir, zone), { recursive: true });
  writeFileSync(join(dir, zone, 'type'), `${type}\n`);
  writeFileSync(join(dir, zone, 'temp'), `${temp}\n`);
}

async function checkMachineSensors(watch) {
  const nodeId = 'custom-agent-check-machine';
  const zones = machineZones();
  const [what, matches] =
    zones > 0
      ? [
          `a temperature (${zones} zones under ${SYSFS_THERMAL})`,
          (e) => typeof e['temperature.celsius'] === 'number' && typeof e['temperature.zone'] === 'string',
        ]
      : [
          `temperature.sensor "none" (${SYSFS_THERMAL} has no zones here)`,
          (e) => e['temperature.sensor'] === 'none' && !('temperature.celsius' in e),
        ];
  console.log(`check 1: this machine's sensors; expecting ${what}`);
  await withExample('machine', { KRAKEN_NODE_ID: nodeId }, async () => {
    const body = await watch.waitFor(nodeId, what, (b) => b.extensions !== undefined && matches(b.extensions));
    assertBasics(body);
    console.log(`  ok: node.info from ${nodeId} with extensions ${JSON.stringify(body.extensions)}`);
  });
}

async function checkFakeSensors(watch, dir) {
  const nodeId = 'custom-agent-check-fake';
  fakeZone(dir, 'thermal_zone0', 'acpitz', 41000);
  fakeZone(dir, 'thermal_zone1', 'x86_pkg_temp', 47500);
  fakeZone(dir, 'thermal_zone2', 'broken', 'not a number'); // a sensor that cannot be read is skipped
  mkdirSync(join(dir, 'cooling_device0')); // not a zone
  console.log(`check 2: fake sensors in ${dir}; expecting the hottest zone, then a new reading from a later tick`);
  await withExample('fake', { KRAKEN_NODE_ID: nodeId, KRAKEN_THERMAL_DIR: dir, KRAKEN_SAMPLE_INTERVAL: '200ms' }, async () => {
    const same = (expected) => (b) => JSON.stringify(b.extensions) === JSON.stringify(expected);
    const first = { 'temperature.celsius': 47.5, 'temperature.zone': 'x86_pkg_temp', 'temperature.maxCelsius': 47.5 };
    assertBasics(await watch.waitFor(nodeId, `extensions ${JSON.stringify(first)}`, same(first)));
    console.log(`  ok: ${JSON.stringify(first)}`);
    // the package cools down: acpitz is now the hottest; the maximum since start stays
    writeFileSync(join(dir, 'thermal_zone1', 'temp'), '39000\n');
    const cooled = { 'temperature.celsius': 41, 'temperature.zone': 'acpitz', 'temperature.maxCelsius': 47.5 };
    await watch.waitFor(nodeId, `extensions ${JSON.stringify(cooled)} after a tick`, same(cooled));
    console.log(`  ok: ${JSON.stringify(cooled)}`);
  });
}

async function main() {
  if (!existsSync(entry)) throw new CheckFailed(`${entry} is missing: run \`npm run build\` first`);
  let broker;
  try {
    broker = await AmqpBroker.create({ url: brokerUrl, initialConnectTimeoutMs: 10_000 });
  } catch (error) {
    throw new CheckFailed(
      `${error.message} (set KRAKEN_BROKER_URL; in the Kraken repository \`bash tools/services/services.sh up\` starts one)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'kraken-custom-agent-'));
  tempDirs.push(dir);
  const watch = new HeartbeatWatch();
  try {
    // the queue and arguments an orchestrator uses, so the example's heartbeats arrive as in a cluster
    await broker.declareQueue(Queues.OrchestratorTelemetry, { class: DeliveryClass.Telemetry });
    await broker.consume(Queues.OrchestratorTelemetry, (delivery) => watch.onDelivery(delivery));
    console.log(`watching ${Queues.OrchestratorTelemetry} on ${redactUrl(brokerUrl)}`);
    await checkMachineSensors(watch);
    await checkFakeSensors(watch, dir);
  } finally {
    watch.close();
    await broker.close();
  }
}

main().then(
  () => {
    console.log('custom agent check passed');
  },
  (error) => {
    console.error(`custom agent check FAILED: ${error instanceof CheckFailed ? error.message : (error?.stack ?? String(error))}`);
    process.exitCode = 1;
  },
);
