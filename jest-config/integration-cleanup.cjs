// After each integration test file: its apps folder (see integration-env.cjs) goes, with whatever
// the agents it killed left there.
const fs = require('node:fs');

afterAll(() => {
  const appsDir = process.env.KRAKEN_SPEC_APPS_DIR;
  if (appsDir !== undefined) fs.rmSync(appsDir, { recursive: true, force: true });
});
