import { announce } from './announce.js';
import { browse, candidateFromService, findOrchestrator, findOrchestrators } from './browse.js';

const txt = { cluster: 'home', role: 'orchestrator', priority: '0', apiport: '4000', protocol: '1' };
const referer = { address: '10.0.0.7', family: 'IPv4' as const, port: 5353, size: 200 };

describe('candidateFromService', () => {
  it("builds the URL from the sender's address and the TXT API port, not the SRV port or advertised addresses", () => {
    expect(candidateFromService({ name: 'node-a', txt, referer })).toEqual({
      url: 'http://10.0.0.7:4000',
      source: 'mdns',
      clusterId: 'home',
      role: 'orchestrator',
      priority: 0,
      protocolVersion: '1',
      compatible: true,
      name: 'node-a',
    });
  });

  it('flags a different major protocol version', () => {
    expect(candidateFromService({ name: 'n', txt: { ...txt, protocol: '2' }, referer })).toMatchObject({
      compatible: false,
      protocolVersion: '2',
    });
  });

  it('says why an advert is not usable', () => {
    expect(candidateFromService({ name: 'n', txt: { ...txt, apiport: 'x' }, referer })).toMatch(/TXT apiport: "x"/);
    expect(candidateFromService({ name: 'n', txt, referer: { ...referer, address: 'fe80::1', family: 'IPv6' } })).toMatch(
      /no IPv4 sender address/,
    );
    expect(candidateFromService({ name: 'n', txt, referer: undefined })).toMatch(/no IPv4 sender address/);
  });
});

// These fail on their checks, before any socket is opened.
describe('option checks', () => {
  const txtInput = { clusterId: 'home', role: 'orchestrator', priority: 0, apiPort: 4000 } as const;

  it('announce refuses names that would split the DNS name, bad ports and addresses this machine lacks', async () => {
    await expect(announce({ name: 'node.a', port: 4000, txt: txtInput, interfaceAddress: '10.255.255.254' })).rejects.toThrow(
      /announce: name: "node.a" must be 1-63 letters/,
    );
    await expect(announce({ name: 'node-a', port: 0, txt: txtInput, interfaceAddress: '10.255.255.254' })).rejects.toThrow(
      /announce: port: expected a port/,
    );
    await expect(announce({ name: 'node-a', port: 4000, txt: txtInput, interfaceAddress: '10.255.255.254' })).rejects.toThrow(
      /interfaceAddress: 10.255.255.254 is not an address of this machine/,
    );
  });

  it('browse, findOrchestrator and findOrchestrators refuse bad options', async () => {
    const onCandidate = (): void => undefined;
    await expect(browse({ interfaceAddress: '10.255.255.254', onCandidate })).rejects.toThrow(
      /is not an address of this machine/,
    );
    await expect(browse({ interfaceAddress: '10.255.255.254', clusterId: 'a b', onCandidate })).rejects.toThrow(
      /browse: clusterId: "a b" is not a cluster id/,
    );
    await expect(browse({ interfaceAddress: '10.255.255.254', requeryMinMs: 10, onCandidate })).rejects.toThrow(
      /requeryMinMs \(10\) must be at least 100/,
    );
    await expect(findOrchestrator({ interfaceAddress: '10.255.255.254', timeoutMs: -1 })).rejects.toThrow(
      /findOrchestrator: timeoutMs/,
    );
    await expect(findOrchestrators({ interfaceAddress: '10.255.255.254', timeoutMs: 1_000, settleMs: -1 })).rejects.toThrow(
      /findOrchestrators: settleMs: expected a number of milliseconds >= 0, got -1/,
    );
  });
});
