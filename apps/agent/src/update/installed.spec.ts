import fs from 'node:fs';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@kraken/messages';
import { globalPrefixOf, packageRoot, protocolVersionOf, readInstalledAgent } from './installed.js';

describe('the installed @kraken/agent', () => {
  it('publishes the protocol version it speaks in package.json, equal to the wire protocol\'s', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { kraken?: { protocolVersion?: unknown } };
    expect(manifest.kraken?.protocolVersion).toBe(PROTOCOL_VERSION);
  });

  it('reads its own name, version and protocol version', () => {
    const installed = readInstalledAgent();
    expect(installed).toEqual({ name: '@kraken/agent', version: expect.stringMatching(/^\d+\.\d+\.\d+/) as unknown, protocolVersion: PROTOCOL_VERSION, packageRoot: packageRoot() });
    expect(path.basename(installed.packageRoot)).toBe('agent');
  });

  it('reads kraken.protocolVersion only when it is a positive integer', () => {
    expect(protocolVersionOf({ kraken: { protocolVersion: 2 } })).toBe(2);
    expect(protocolVersionOf({ kraken: { protocolVersion: '2' } })).toBeUndefined();
    expect(protocolVersionOf({ kraken: { protocolVersion: 0 } })).toBeUndefined();
    expect(protocolVersionOf({ kraken: null })).toBeUndefined();
    expect(protocolVersionOf({})).toBeUndefined();
  });

  it('knows the npm prefix of a global install, and that a checkout has none', () => {
    expect(globalPrefixOf({ name: '@kraken/agent', packageRoot: '/opt/npm global/lib/node_modules/@kraken/agent' })).toBe('/opt/npm global');
    expect(globalPrefixOf({ name: '@kraken/agent', packageRoot: '/usr/lib/node_modules/@kraken/agent' })).toBe('/usr');
    expect(globalPrefixOf({ name: '@kraken/agent', packageRoot: '/work/main/apps/agent' })).toBeUndefined();
    expect(globalPrefixOf({ name: '@kraken/agent', packageRoot: '/work/app/node_modules/@kraken/agent' })).toBeUndefined();
  });
});
