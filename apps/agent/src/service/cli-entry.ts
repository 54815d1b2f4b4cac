import { fileURLToPath } from 'node:url';

/**
 * The kraken binary's entry point, `dist/cli.js` of this package: what a boot-time unit runs with
 * `node`. Taken from this module's own location, so it is right however kraken was invoked (a bin
 * link, npx, a checkout).
 */
export function cliEntry(): string {
  return fileURLToPath(new URL('../cli.js', import.meta.url));
}
