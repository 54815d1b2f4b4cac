import { formatLogCursor, parseLogCursor } from './log-cursor.js';

describe('process log cursors', () => {
  it('name both files and offsets, and read back as they were written', () => {
    const position = { stdout: { file: '2049-131', offset: 4096 }, stderr: { file: '', offset: 0 } };
    const cursor = formatLogCursor(position);
    expect(cursor).toBe('p1:2049-131:4096::0');
    expect(parseLogCursor(cursor)).toEqual(position);
  });

  it.each(['2026-12-07T02:30:00.123456789Z', 'p2:1-2:3:4-5:6', 'p1:1-2:-3:4-5:6', 'p1:1-2:3:4-5'])(
    'do not recognise %s, which this runtime did not make',
    (cursor) => {
      expect(parseLogCursor(cursor)).toBeUndefined();
    },
  );
});
