#!/usr/bin/env node
// The checks tools/ci/live-kraken.sh makes of the Kraken it runs beside the test suite, through the
// `kraken` command of that Kraken's own clone (what a user types) and plain HTTP.
//
//   node tools/ci/live-kraken.mjs wait   --cli C --api URL --data-dir D --example DIR --pid P [--timeout S]
//   node tools/ci/live-kraken.mjs check  --cli C --api URL --data-dir D --example DIR --pid P
//   node tools/ci/live-kraken.mjs cancel --cli C --api URL --data-dir D [--timeout S]
//
// wait:   until the API answers and the example app (deployed from DIR) is RUNNING and answers HTTP
//         200; fails at once when process P (tools/run-kraken.sh) has ended.
// check:  the same, once: prints one line saying what answered, or fails saying what did not.
// cancel: cancels every deployment still there and waits until each is DESTROYED (nothing left running).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const terminal = new Set(['DESTROYED', 'ERRORED']);

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    cli: { type: 'string' },
    api: { type: 'string' },
    'data-dir': { type: 'string' },
    example: { type: 'string' },
    pid: { type: 'string' },
    timeout: { type: 'string', default: '900' },
  },
});
const [command] = positionals;
const needs = { wait: ['cli', 'api', 'data-dir', 'example', 'pid'], check: ['cli', 'api', 'data-dir', 'example', 'pid'], cancel: ['cli', 'api', 'data-dir'] };
if (!(command in needs)) fail(`usage: live-kraken.mjs wait|check|cancel --cli C --api URL --data-dir D [--example DIR --pid P] [--timeout S]`, 2);
for (const name of needs[command]) if (values[name] === undefined) fail(`live-kraken.mjs ${command}: --${name} is required`, 2);
const deadline = Date.now() + Number(values.timeout) * 1000;

function fail(message, code = 1) {
  console.error(message);
  process.exit(code);
}

/** `kraken <args> --api --data-dir --json` of the live Kraken's clone, parsed. */
async function kraken(...args) {
  const { stdout } = await run(process.execPath, [values.cli, ...args, '--api', values.api, '--data-dir', values['data-dir'], '--json'], { timeout: 30_000 });
  return JSON.parse(stdout);
}

const alive = () => {
  try {
    process.kill(Number(values.pid), 0);
    return true;
  } catch {
    return false;
  }
};

/** What stands between now and a serving Kraken with its example app, or undefined when nothing does. */
async function problem() {
  const ping = await fetch(`${values.api}/ping`).catch((error) => error);
  if (!(ping instanceof Response) || !ping.ok) return `its API ${values.api}/ping does not answer (${ping instanceof Response ? `HTTP ${ping.status}` : ping.cause?.code ?? ping.message})`;
  if (!existsSync(values.cli)) return `its kraken command ${values.cli} is not built yet`;
  const deployments = await kraken('ls').catch((error) => error);
  if (!Array.isArray(deployments)) return `kraken ls failed: ${deployments.stderr?.trim() || deployments.message}`;
  const example = deployments.find((d) => d.srcUrl === values.example && !terminal.has(d.status)) ?? deployments.find((d) => d.srcUrl === values.example);
  if (example === undefined) return `its example app (${values.example}) is not deployed`;
  if (example.status !== 'RUNNING') return `its example app ${example.id} is ${example.status}${example.statusMessage ? `: ${example.statusMessage}` : ''}`;
  const answer = await fetch(example.deploymentUrl).catch((error) => error);
  if (!(answer instanceof Response) || answer.status !== 200) {
    return `its example app ${example.id} does not answer at ${example.deploymentUrl} (${answer instanceof Response ? `HTTP ${answer.status}` : answer.cause?.code ?? answer.message})`;
  }
  return { ok: `API ${values.api} answers; example app ${example.id} RUNNING on ${example.node}, HTTP 200 at ${example.deploymentUrl}` };
}

if (command === 'wait' || command === 'check') {
  for (;;) {
    const found = await problem();
    if (typeof found === 'object') {
      console.log(`live Kraken: ${found.ok}`);
      process.exit(0);
    }
    if (!alive()) fail(`live Kraken: tools/run-kraken.sh (pid ${values.pid}) has ended; ${found}`);
    if (command === 'check') fail(`live Kraken: ${found}`);
    if (Date.now() > deadline) fail(`live Kraken: not serving after ${values.timeout} s: ${found}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

if (command === 'cancel') {
  const pending = (await kraken('ls')).filter((d) => d.status !== 'DESTROYED');
  for (const deployment of pending) await kraken('cancel', deployment.id);
  for (;;) {
    const left = (await kraken('ls')).filter((d) => pending.some((p) => p.id === d.id) && d.status !== 'DESTROYED');
    if (left.length === 0) break;
    if (Date.now() > deadline) fail(`live Kraken: still not destroyed after ${values.timeout} s: ${left.map((d) => `${d.id} ${d.status}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  console.log(`live Kraken: cancelled ${pending.length === 0 ? 'nothing (no deployment)' : pending.map((d) => d.id).join(', ')}`);
}
