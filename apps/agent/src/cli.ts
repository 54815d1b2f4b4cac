#!/usr/bin/env node
// The `kraken` binary: checks the Node.js version, then wires the process (argv, env, signals,
// exit code) to runCli.
import { readFileSync } from 'node:fs';
import { unsupportedNodeReason } from './node-version.js';

// Before anything else loads: on an older Node a dependency fails with an error that names neither
// the cause nor the fix. package.json is one level above both src/ and dist/.
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string } };
const reason = manifest.engines?.node === undefined ? undefined : unsupportedNodeReason(process.versions.node, manifest.engines.node, process.execPath);
if (reason !== undefined) {
  process.stderr.write(`kraken: ${reason}\n`);
  process.exit(2); // ExitCode.Usage: the environment is wrong, not the operation
}

// `kraken agent` runs with a bounded young generation (see young-generation.ts). execve replaces
// this process, keeping its pid for systemd and whoever started it, before anything else is loaded.
const { relaunchArgs } = await import('./young-generation.js');
const relaunch = relaunchArgs(process.argv, process.execArgv, process.env['NODE_OPTIONS']);
if (relaunch !== undefined && typeof process.execve === 'function') {
  try {
    process.execve(process.execPath, relaunch, process.env);
  } catch (error) {
    // the agent runs as well without the bound, only with more memory
    process.stderr.write(`kraken: could not relaunch with a bounded young generation (${String(error)}); running without it\n`);
  }
}

const { runCli } = await import('./program.js');
const { processIo } = await import('./client/io.js');

const { STOP_BOUND_MS } = await import('./run/stop-bound.js');

const controller = new AbortController();
let signals = 0;
const onSignal = (name: string) => {
  signals++;
  // a second signal is the operator's (or the service manager's) way to force a stop
  if (signals > 1) {
    process.stderr.write(`kraken: ${name} again, exiting now\n`);
    process.exit(130);
  }
  controller.abort();
  // the stop is bounded even if something in it hangs; unref: a stop that ends sooner exits at once
  setTimeout(() => {
    process.stderr.write(`kraken: did not stop within ${STOP_BOUND_MS / 1000} s of ${name}; exiting now\n`);
    process.exit(1);
  }, STOP_BOUND_MS).unref();
};
process.on('SIGINT', () => {
  onSignal('SIGINT');
});
process.on('SIGTERM', () => {
  onSignal('SIGTERM');
});

const code = await runCli(process.argv.slice(2), {
  io: processIo,
  env: process.env,
  interactive: process.stdin.isTTY,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  signal: controller.signal,
});
process.exit(code);
