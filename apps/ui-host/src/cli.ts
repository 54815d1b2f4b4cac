#!/usr/bin/env node
// The `kraken-ui` binary: wires argv, signals and exit codes to startUiServer.
import { parseCliArgs, usage } from './cli-args.js';
import { startUiServer } from './ui-server.js';

const parsed = parseCliArgs(process.argv.slice(2));
if ('help' in parsed) {
  process.stdout.write(usage + '\n');
  process.exit(0);
}
if ('error' in parsed) {
  process.stderr.write(`kraken-ui: ${parsed.error}\n\n${usage}\n`);
  process.exit(2);
}
try {
  const server = await startUiServer(parsed.options);
  process.stdout.write(`Kraken UI listening on ${server.url}/ (API: ${parsed.options.api})\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`kraken-ui: cannot listen: ${(error as Error).message}\n`);
  process.exit(1);
}
