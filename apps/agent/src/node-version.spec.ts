import { minimumNodeVersion, unsupportedNodeReason } from './node-version.js';

describe('the Node.js version check', () => {
  it('reads the minimum from a >=X.Y or >=X.Y.Z range', () => {
    expect(minimumNodeVersion('>=22.15')).toEqual([22, 15, 0]);
    expect(minimumNodeVersion('>= 22.15.1')).toEqual([22, 15, 1]);
  });

  it('refuses any other range form, so a package.json mistake is found by the tests', () => {
    expect(() => minimumNodeVersion('^22 || >=24')).toThrow(/engines.node must be written ">=X.Y"/);
  });

  it('accepts the minimum and anything newer', () => {
    for (const version of ['22.15.0', '22.15.3', '22.23.5', '24.22.3', '30.0.0']) {
      expect(unsupportedNodeReason(version, '>=22.15', '/usr/bin/node')).toBeUndefined();
    }
  });

  it('explains an older Node: what is needed, what runs, where, and what to do', () => {
    expect(unsupportedNodeReason('20.20.2', '>=22.15', '/usr/bin/node')).toBe(
      'Node.js 22.15 or newer is needed (engines >=22.15); this is Node.js 20.20.2 (/usr/bin/node). ' +
        'Install Node.js 24 LTS and run kraken with it (in a Kraken checkout, bash tools/run-kraken.sh installs one from the npm registry).',
    );
    expect(unsupportedNodeReason('22.14.9', '>=22.15', '/usr/bin/node')).toMatch(/this is Node.js 22.14.9/);
  });
});
