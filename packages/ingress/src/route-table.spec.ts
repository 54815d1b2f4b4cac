import { RouteTable, nameOfHost } from './route-table.js';

const hello = { name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: 'http://10.0.0.2:20001' };
const moved = { ...hello, upstream: 'http://10.0.0.3:20002' };

function clockAt(start = 1_000_000) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

describe('RouteTable', () => {
  it('looks a name up by the Host header\'s first label, whatever its case, domain or port', () => {
    const table = new RouteTable();
    table.apply({ epoch: 1, seq: 0, routes: [hello] });
    for (const host of ['hello', 'HELLO', 'hello.local', 'hello.local:8080', 'hello:80', 'hello.cluster.example.lan']) {
      expect(table.lookup(host)).toEqual(hello);
    }
    expect(table.lookup('other.local')).toBeUndefined();
    expect(table.lookup(undefined)).toBeUndefined();
  });

  it('replaces the whole table with a newer one of the same term, and says so', () => {
    const table = new RouteTable();
    const changed: number[] = [];
    table.on('changed', (snapshot) => changed.push(snapshot.seq));
    expect(table.apply({ epoch: 1, seq: 1, routes: [hello, { name: 'blog', deploymentId: 'blog-1', status: 'BuildingDeployment' }] })).toBe(true);
    expect(table.apply({ epoch: 1, seq: 2, routes: [moved] })).toBe(true);
    expect(table.lookup('hello')).toEqual(moved);
    expect(table.lookup('blog')).toBeUndefined();
    expect(table.size).toBe(1);
    expect(changed).toEqual([1, 2]);
  });

  it('ignores a late table of the same term and one of a former leader\'s term', () => {
    const table = new RouteTable();
    table.apply({ epoch: 2, seq: 5, routes: [moved] });
    expect(table.apply({ epoch: 2, seq: 4, routes: [hello] })).toBe(false);
    expect(table.apply({ epoch: 1, seq: 99, routes: [hello] })).toBe(false);
    expect(table.lookup('hello')).toEqual(moved);
    expect(table.version).toEqual({ epoch: 2, seq: 5 });
  });

  it('takes a new leader\'s table whose term starts at 1 again once the held one is stale (a cluster that lost its state)', () => {
    const clock = clockAt();
    const table = new RouteTable({ staleAfterMs: 10_000, clock });
    table.apply({ epoch: 7, seq: 3, routes: [hello] });
    clock.ms += 10_001;
    expect(table.apply({ epoch: 1, seq: 0, routes: [moved] })).toBe(true);
    expect(table.lookup('hello')).toEqual(moved);
  });

  it('keeps the held table fresh when its own leader repeats it', () => {
    const clock = clockAt();
    const table = new RouteTable({ staleAfterMs: 10_000, clock });
    table.apply({ epoch: 7, seq: 3, routes: [hello] });
    clock.ms += 8_000;
    expect(table.apply({ epoch: 7, seq: 3, routes: [hello] })).toBe(false);
    clock.ms += 8_000;
    expect(table.apply({ epoch: 6, seq: 9, routes: [moved] })).toBe(false);
    expect(table.lookup('hello')).toEqual(hello);
  });

  it('refuses a staleness window that is not a positive duration', () => {
    expect(() => new RouteTable({ staleAfterMs: 0 })).toThrow('RouteTable option staleAfterMs: must be more than 0');
  });
});

describe('nameOfHost', () => {
  it('names no app for an IP address, an empty header or a bracketed IPv6 address', () => {
    expect(nameOfHost('192.168.1.20:8080')).toBeUndefined();
    expect(nameOfHost('10.0.0.1')).toBeUndefined();
    expect(nameOfHost('[::1]:8080')).toBeUndefined();
    expect(nameOfHost('')).toBeUndefined();
    expect(nameOfHost(' App.Local ')).toBe('app');
  });
});
