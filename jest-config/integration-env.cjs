// Set before each integration test file, for the agents its tests start on this machine:
// - their ingress serves on a port the kernel picks, not on 80 or 8080 of the machine (which a live
//   Kraken or another program may hold); a test that wants a port passes --ingress-port, which wins;
// - their process-runtime apps live in a folder of this test file's, not under the machine's
//   /var/lib/kraken-apps (it outlived every agent a test killed); a test that wants a folder passes
//   --apps-dir, which wins. Traversable (0711): apps run as an unprivileged user.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

process.env.KRAKEN_INGRESS_PORT ??= '0';
// (a folder an earlier test file of this worker made, should its environment carry over, is not reused)
if (process.env.KRAKEN_APPS_DIR === undefined || process.env.KRAKEN_APPS_DIR === process.env.KRAKEN_SPEC_APPS_DIR) {
  const appsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-spec-apps-'));
  fs.chmodSync(appsDir, 0o711);
  process.env.KRAKEN_APPS_DIR = appsDir;
  process.env.KRAKEN_SPEC_APPS_DIR = appsDir;
}
