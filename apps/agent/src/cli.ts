#!/usr/bin/env node
// The `kraken` binary: wires the process (argv, env, signals, exit code) to runCli.
import { runCli } from './program.js';
import { processIo } from './client/io.js';

const controller = new AbortController();
let signals = 0;
const onSignal = (name: string) => {
  signals++;
  if (signals > 1) {
    process.stderr.write(`kraken: ${name} again, exiting now\n`);
    process.exit(130);
  }
  controller.abort();
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
  signal: controller.signal,
});
process.exit(code);
