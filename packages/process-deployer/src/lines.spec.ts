import { LineSplitter, MAX_LINE_CHARS, formatOutput } from './lines.js';

describe('LineSplitter', () => {
  it('joins lines split across chunks and drops the carriage return of CRLF', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('hel'))).toEqual([]);
    expect(splitter.push(Buffer.from('lo\r\nwor'))).toEqual(['hello']);
    expect(splitter.push(Buffer.from('ld\n\nlast'))).toEqual(['world', '']);
    expect(splitter.flush()).toEqual(['last']);
    expect(splitter.flush()).toEqual([]);
  });

  it('keeps a UTF-8 character that a chunk boundary cuts in two', () => {
    const bytes = Buffer.from('größe €\n');
    const splitter = new LineSplitter();
    const lines = [...splitter.push(bytes.subarray(0, 3)), ...splitter.push(bytes.subarray(3, 8)), ...splitter.push(bytes.subarray(8))];
    expect(lines).toEqual(['größe €']);
  });

  it('cuts an endless line into bounded pieces', () => {
    const splitter = new LineSplitter();
    const lines = splitter.push(Buffer.from('x'.repeat(MAX_LINE_CHARS * 2 + 5)));
    expect(lines).toEqual(['x'.repeat(MAX_LINE_CHARS), 'x'.repeat(MAX_LINE_CHARS)]);
    expect(splitter.flush()).toEqual(['xxxxx']);
  });
});

describe('formatOutput', () => {
  it('formats the last lines as an indented block, and says so when there were none', () => {
    expect(formatOutput(['b', 'c'])).toBe('\nlast output lines:\n  b\n  c');
    expect(formatOutput([])).toBe('\n(no output)');
  });
});
