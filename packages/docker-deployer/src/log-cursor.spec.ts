import { ResumeFilter, engineTimeKey, formatDockerCursor, parseDockerCursor } from './log-cursor.js';

describe('Docker log cursors', () => {
  it('give engine times a fixed width, so later lines sort after earlier ones as text', () => {
    const times = [
      '2026-12-07T02:30:00Z',
      '2026-12-07T02:30:00.000000001Z',
      '2026-12-07T02:30:00.1Z',
      '2026-12-07T02:30:00.12Z',
      '2026-12-07T02:30:01.000000009Z',
    ];
    const keys = times.map((time) => engineTimeKey(time) ?? '');
    expect(keys[2]).toBe('2026-12-07T02:30:00.100000000Z');
    expect([...keys].sort()).toEqual(keys);
  });

  it('read back the time and the whole second to ask the engine from', () => {
    const key = engineTimeKey('2026-12-07T02:30:00.123456789Z') ?? '';
    expect(parseDockerCursor(formatDockerCursor(key))).toEqual({
      timeKey: key,
      sinceSeconds: Date.parse('2026-12-07T02:30:00Z') / 1000,
    });
  });

  it.each(['p1:2049-131:4096::0', 'd1:2026-12-07T02:30:00Z', 'd2:2026-12-07T02:30:00.123456789Z', ''])(
    'do not recognise %j, which this runtime did not make',
    (cursor) => {
      expect(parseDockerCursor(cursor)).toBeUndefined();
    },
  );

  it('leave times the engine does not write without a key', () => {
    expect(engineTimeKey('2026-12-07T02:30:00+01:00')).toBeUndefined();
    expect(engineTimeKey('hello')).toBeUndefined();
  });

  it("resume: skips what the cursor covers, delivers the backlog up to the bound and what comes live, a long line's pieces with its start", () => {
    const key = (second: number, nanos = 0): string =>
      engineTimeKey(`2026-12-07T02:30:${String(second).padStart(2, '0')}.${String(nanos).padStart(9, '0')}Z`) ?? '';
    const filter = new ResumeFilter(key(1, 500), key(10), 100);
    expect(filter.judge(key(1, 499), 10)).toBe('confirmed');
    expect(filter.judge(key(1, 500), 10)).toBe('confirmed');
    expect(filter.judge(undefined, 10)).toBe('confirmed');
    expect(filter.judge(key(1, 501), 60)).toBe('deliver');
    expect(filter.judge(key(2), 30)).toBe('deliver');
    expect(filter.judge(key(3), 30)).toBe('beyond-bound');
    expect(filter.judge(undefined, 30)).toBe('beyond-bound');
    expect(filter.judge(key(10), 1000)).toBe('deliver');
  });
});
