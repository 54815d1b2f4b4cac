// Preloaded with `node --import` by tests that check what an agent loads: every module the process
// loads (ESM imports, require() calls, dynamic import()) goes through this load hook, and the list is
// written to the file named by KRAKEN_TEST_LOADED_MODULES when the process exits. ESM has no
// require.cache to inspect afterwards, and module.registerHooks sees both module systems in-thread.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.KRAKEN_TEST_LOADED_MODULES;
if (out === undefined) throw new Error('record-loaded-modules: set KRAKEN_TEST_LOADED_MODULES to the file to write');
const loaded = new Set();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  writeFileSync(out, [...loaded].join('\n') + '\n');
});
