import { ErrorCode, KrakenError } from '@kraken/common';

interface Parsed {
  core: [number, number, number];
  prerelease: string[];
}

// semver.org's grammar, build metadata included (it does not take part in ordering)
const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function isVersion(value: string): boolean {
  return SEMVER.test(value);
}

function parse(version: string): Parsed {
  const match = SEMVER.exec(version);
  if (match === null) throw new KrakenError(ErrorCode.InvalidInput, `${JSON.stringify(version)} is not a semantic version such as 1.4.2`);
  return {
    core: [Number(match[1]), Number(match[2]), Number(match[3])],
    prerelease: match[4] === undefined ? [] : match[4].split('.'),
  };
}

/** Semantic version precedence: negative when a < b, 0 when equal (build metadata ignored), positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const left = parse(a);
  const right = parse(b);
  for (const [i, part] of left.core.entries()) {
    const diff = part - right.core[i as 0 | 1 | 2];
    if (diff !== 0) return Math.sign(diff);
  }
  // a release ranks above its pre-releases
  if (left.prerelease.length === 0 || right.prerelease.length === 0) {
    return Math.sign(right.prerelease.length - left.prerelease.length);
  }
  for (let i = 0; i < Math.max(left.prerelease.length, right.prerelease.length); i++) {
    const x = left.prerelease[i];
    const y = right.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xNumeric = /^\d+$/.test(x);
    const yNumeric = /^\d+$/.test(y);
    if (xNumeric && yNumeric) return Math.sign(Number(x) - Number(y));
    // numeric identifiers rank below alphanumeric ones
    if (xNumeric !== yNumeric) return xNumeric ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
