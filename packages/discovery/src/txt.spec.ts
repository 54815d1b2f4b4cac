import { DiscoveryRole, decodeTxt, encodeTxt, isCompatibleProtocol, protocolMajor } from './txt.js';

const input = { clusterId: 'home-lab', role: DiscoveryRole.Orchestrator, priority: 0, apiPort: 4000, protocolVersion: '1.2' };

describe('encodeTxt', () => {
  it('writes short keys (at most nine characters) with string values', () => {
    const record = encodeTxt(input);
    expect(record).toEqual({ cluster: 'home-lab', role: 'orchestrator', priority: '0', apiport: '4000', protocol: '1.2' });
    for (const key of Object.keys(record)) expect(key.length).toBeLessThanOrEqual(9);
  });

  it("defaults the protocol version to this node's", () => {
    const { protocolVersion: _omitted, ...rest } = input;
    expect(encodeTxt(rest).protocol).toBe('1');
  });

  it.each([
    [{ clusterId: '' }, /txt\.clusterId: "": expected 1-64 letters/],
    [{ clusterId: 'has space' }, /txt\.clusterId/],
    [{ role: 'boss' }, /txt\.role: "boss" is not one of orchestrator, standby, worker/],
    [{ priority: -1 }, /txt\.priority: -1: expected an integer from 0 to 100/],
    [{ priority: 1.5 }, /txt\.priority/],
    [{ apiPort: 0 }, /txt\.apiPort: 0: expected a port from 1 to 65535/],
    [{ apiPort: 70_000 }, /txt\.apiPort/],
    [{ protocolVersion: 'v1' }, /txt\.protocolVersion: "v1": expected MAJOR or MAJOR.MINOR/],
  ])('refuses %j, naming the field', (change, message) => {
    expect(() => encodeTxt({ ...input, ...change } as typeof input)).toThrow(message);
  });
});

describe('decodeTxt', () => {
  it('round-trips what encodeTxt writes', () => {
    expect(decodeTxt(encodeTxt(input))).toEqual({ ok: true, value: input });
  });

  it("accepts a role this version does not know, so a newer agent's advert is still reported", () => {
    const decoded = decodeTxt({ ...encodeTxt(input), role: 'arbiter' });
    expect(decoded.ok && decoded.value.role).toBe('arbiter');
  });

  it.each([
    [undefined, /TXT cluster: missing/],
    [{ cluster: 'c', role: 'worker', priority: '1', apiport: '4000' }, /TXT protocol: missing/],
    [
      { cluster: 'c', role: 'worker', priority: 'high', apiport: '4000', protocol: '1' },
      /TXT priority: "high": expected an integer/,
    ],
    [{ cluster: 'c', role: 'worker', priority: '1', apiport: '99999', protocol: '1' }, /TXT apiport: "99999": expected a port/],
    [{ cluster: 'c', role: 'worker', priority: '1', apiport: 4000, protocol: '1' }, /TXT apiport: missing/],
  ])('returns an error for %j instead of throwing', (raw, message) => {
    const decoded = decodeTxt(raw);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.message).toMatch(message);
  });
});

describe('protocol versions', () => {
  it('compares majors only, treats an unknown version as compatible and garbage as not', () => {
    expect(protocolMajor('3.14')).toBe(3);
    expect(protocolMajor('x')).toBeUndefined();
    expect(isCompatibleProtocol('1')).toBe(true);
    expect(isCompatibleProtocol('1.9')).toBe(true);
    expect(isCompatibleProtocol('2.0')).toBe(false);
    expect(isCompatibleProtocol(undefined)).toBe(true);
    expect(isCompatibleProtocol('one')).toBe(false);
  });
});
