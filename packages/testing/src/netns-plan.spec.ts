import {
  bridgeNameFor,
  cidrsOverlap,
  defaultSubnetCandidates,
  labAlias,
  parseLabAlias,
  parseSubnet24,
  planLab,
} from './netns-plan.js';

describe('planLab', () => {
  it('puts the host machine on .1 and hosts on .2 upwards, each with its own namespace and veth', () => {
    const plan = planLab({ name: 'disc', hosts: 2 }, '10.77.5.0/24', 'abcd1234');
    expect(plan.bridge).toBe('krk0a4d05');
    expect(plan.hostAddress).toBe('10.77.5.1');
    expect(plan.hosts).toEqual([
      {
        index: 1,
        name: 'h1',
        netns: 'kraken-disc-abcd1234-h1',
        veth: 'krk0a4d05v1',
        interfaceName: 'eth0',
        address: '10.77.5.2',
      },
      {
        index: 2,
        name: 'h2',
        netns: 'kraken-disc-abcd1234-h2',
        veth: 'krk0a4d05v2',
        interfaceName: 'eth0',
        address: '10.77.5.3',
      },
    ]);
  });

  it('places hosts on the given last octets', () => {
    const plan = planLab({ name: 'disc', hosts: 2, hostOctets: [200, 7] }, '192.168.9.0/24', 'ab');
    expect(plan.hosts.map((host) => host.address)).toEqual(['192.168.9.200', '192.168.9.7']);
  });

  it('keeps interface names within the kernel limit of 15 characters for the largest lab', () => {
    const plan = planLab({ name: 'x', hosts: 200 }, '172.31.255.0/24', 'ab');
    for (const host of plan.hosts) expect(host.veth.length).toBeLessThanOrEqual(15);
    expect(plan.bridge.length).toBeLessThanOrEqual(15);
  });

  it.each([
    [{ name: 'Bad Name', hosts: 1 }, /name: "Bad Name" must be 1-20 of a-z/],
    [{ name: 'ok', hosts: 0 }, /hosts: expected an integer from 1 to 200, got 0/],
    [{ name: 'ok', hosts: 2, hostOctets: [5] }, /hostOctets: expected one octet per host \(2\), got 1/],
    [{ name: 'ok', hosts: 2, hostOctets: [1, 5] }, /hostOctets: 1 is not an integer from 2 to 254/],
    [{ name: 'ok', hosts: 2, hostOctets: [5, 5] }, /hostOctets: octets must be distinct/],
  ])('rejects %j', (options, message) => {
    expect(() => planLab(options, '10.77.1.0/24', 'ab')).toThrow(message);
  });
});

describe('parseSubnet24', () => {
  it('accepts private /24s', () => {
    expect(parseSubnet24('10.77.0.0/24')).toEqual([10, 77, 0]);
    expect(parseSubnet24('172.16.3.0/24')).toEqual([172, 16, 3]);
    expect(parseSubnet24('192.168.1.0/24')).toEqual([192, 168, 1]);
  });

  it('rejects other shapes and public ranges', () => {
    expect(() => parseSubnet24('10.77.0.0/16')).toThrow(/not an IPv4 \/24 written as a.b.c.0\/24/);
    expect(() => parseSubnet24('10.77.0.5/24')).toThrow(/not an IPv4 \/24/);
    expect(() => parseSubnet24('10.300.0.0/24')).toThrow(/not an IPv4 \/24/);
    expect(() => parseSubnet24('172.32.0.0/24')).toThrow(/not private/);
    expect(() => parseSubnet24('8.8.8.0/24')).toThrow(/not private/);
  });

  it('derives one bridge name per subnet', () => {
    expect(bridgeNameFor('10.77.255.0/24')).toBe('krk0a4dff');
    expect(bridgeNameFor('10.77.1.0/24')).not.toBe(bridgeNameFor('10.78.1.0/24'));
  });
});

describe('defaultSubnetCandidates', () => {
  it('lists every 10.77.N.0/24 once', () => {
    const subnets = defaultSubnetCandidates();
    expect(subnets).toHaveLength(256);
    expect(new Set(subnets).size).toBe(256);
    expect(subnets.every((subnet) => /^10\.77\.\d+\.0\/24$/.test(subnet))).toBe(true);
  });
});

describe('lab alias', () => {
  it('round-trips the owner', () => {
    const plan = planLab({ name: 'disc', hosts: 1 }, '10.77.5.0/24', 'abcd1234');
    expect(parseLabAlias(labAlias(plan, { pid: 42, startTicks: '9001' }))).toEqual({
      pid: 42,
      startTicks: '9001',
      runId: 'abcd1234',
    });
  });

  it('ignores aliases that are not a lab owner', () => {
    expect(parseLabAlias(undefined)).toBeUndefined();
    expect(parseLabAlias('uplink to the office')).toBeUndefined();
  });
});

describe('cidrsOverlap', () => {
  it('tells overlapping ranges from disjoint ones', () => {
    expect(cidrsOverlap('10.77.5.0/24', '10.77.5.0/24')).toBe(true);
    expect(cidrsOverlap('10.0.0.0/8', '10.77.5.0/24')).toBe(true);
    expect(cidrsOverlap('10.77.5.9', '10.77.5.0/24')).toBe(true);
    expect(cidrsOverlap('10.77.6.0/24', '10.77.5.0/24')).toBe(false);
    expect(cidrsOverlap('172.17.0.0/16', '10.77.5.0/24')).toBe(false);
  });
});
