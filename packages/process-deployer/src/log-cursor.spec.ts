import { formatLogCursor, parseLogCursor } from './log-cursor.js';

describe('process log cursors', () => {
  it('name both files, offsets and line numbers, and read back as they were written', () => {
    const position = { stdout: { file: '2049-131', offset: 4096, line: 73 }, stderr: { file: '', offset: 0, line: 0 } };
    const cursor = formatLogCursor(position);
    expect(cursor).toBe('p2:2049-131:4096:73::0:0');
    expect(parseLogCursor(cursor)).toEqual(position);
  });

  it.each(['2026-12-07T02:30:00.123456789Z', 'p1:1-2:3:4-5:6', 'p2:1-2:-3:0:4-5:6:0', 'p2:1-2:3:0:4-5:6', 'p3:1-2:3:0:4-5:6:0'])(
    'do not recognise %s, which this runtime did not make',
    (cursor) => {
      expect(parseLogCursor(cursor)).toBeUndefined();
    },
  );
});
