import { parseArgs } from 'node:util';
import type { UiServerOptions } from './ui-server.js';

export const usage = `Usage: kraken-ui --api URL [--port 8080] [--host 127.0.0.1] [--root DIR]

Serves the Kraken web UI and forwards /graphql (HTTP and WebSocket) to the API.
  --api URL    the Kraken API, as printed by \`kraken agent\` (e.g. http://127.0.0.1:4000)
  --port N     port to listen on (default 8080; 0 picks a free one)
  --host H     address to listen on (default 127.0.0.1)
  --root DIR   folder of a built UI bundle (default: the bundle shipped in this package)`;

/** Parses argv into server options, or an error message that names the flag and what is allowed. */
export function parseCliArgs(argv: string[]): { options: UiServerOptions } | { help: true } | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        api: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (values.help === true) return { help: true };
  if (values.api === undefined) return { error: '--api is required: the URL of the Kraken API, e.g. --api http://127.0.0.1:4000' };
  let api: URL;
  try {
    api = new URL(values.api);
  } catch {
    return { error: `--api must be a URL like http://127.0.0.1:4000; got ${JSON.stringify(values.api)}` };
  }
  if (api.protocol !== 'http:') return { error: `--api must be an http:// URL; got ${JSON.stringify(values.api)}` };
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return { error: `--port must be an integer from 0 to 65535; got ${JSON.stringify(values.port)}` };
  return {
    options: {
      api: api.origin,
      port,
      host: values.host ?? '127.0.0.1',
      ...(values.root === undefined ? {} : { root: values.root }),
    },
  };
}
