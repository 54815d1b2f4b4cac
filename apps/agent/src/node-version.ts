// Which Node.js the `kraken` command runs on. The range is package.json's `engines.node`, read at
// start-up by cli.ts, so the check and what npm shows users cannot drift apart.

/** `>=X.Y` or `>=X.Y.Z`: the only form of range this package declares, kept simple so it is checked without semver. */
const rangePattern = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/;

/** [major, minor, patch] of the range's minimum; throws on any other form (a mistake in package.json). */
export function minimumNodeVersion(range: string): [number, number, number] {
  const match = rangePattern.exec(range.trim());
  if (match === null) throw new Error(`engines.node must be written ">=X.Y" or ">=X.Y.Z", got ${JSON.stringify(range)}`);
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/**
 * Why this Node.js cannot run kraken, or undefined when it can. `version` is `process.versions.node`
 * (`20.20.2`), `range` the package's engines.node (`>=22.15`), `execPath` where that node lives.
 */
export function unsupportedNodeReason(version: string, range: string, execPath: string): string | undefined {
  const minimum = minimumNodeVersion(range);
  const current = version.split('.').map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < 3; i += 1) {
    const have = current[i] ?? 0;
    const need = minimum[i] ?? 0;
    if (have > need) return undefined;
    if (have < need) {
      return (
        `Node.js ${range.replace(/^>=\s*/, '')} or newer is needed (engines ${range}); this is Node.js ${version} (${execPath}). ` +
        'Install Node.js 24 LTS and run kraken with it (in a Kraken checkout, bash tools/run-kraken.sh installs one from the npm registry).'
      );
    }
  }
  return undefined;
}
