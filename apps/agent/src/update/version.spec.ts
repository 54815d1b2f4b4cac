import { compareVersions, isVersion } from './version.js';

describe('semantic version comparison', () => {
  it('orders by major, minor and patch as numbers, not text', () => {
    expect(compareVersions('0.10.0', '0.9.9')).toBe(1);
    expect(compareVersions('1.0.0', '2.0.0')).toBe(-1);
    expect(compareVersions('1.2.10', '1.2.9')).toBe(1);
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
  });

  it('ranks a release above its pre-releases, and pre-releases by semver.org rules', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect([ordered[i], compareVersions(ordered[i]!, ordered[i + 1]!)]).toEqual([ordered[i], -1]);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
  });

  it('ignores build metadata', () => {
    expect(compareVersions('1.0.0+build.5', '1.0.0+build.7')).toBe(0);
  });

  it('rejects what is not a semantic version, naming it', () => {
    expect(isVersion('1.2')).toBe(false);
    expect(isVersion('01.2.3')).toBe(false);
    expect(isVersion('1.2.3-rc.1+sha.5')).toBe(true);
    expect(() => compareVersions('latest', '1.0.0')).toThrow('"latest" is not a semantic version such as 1.4.2');
  });
});
