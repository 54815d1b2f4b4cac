import { FrameDemuxer, LineSplitter, OutputLines, demuxAll, splitTimestamp } from './demux.js';

function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('FrameDemuxer', () => {
  it('reassembles frames split inside the header and inside the payload', () => {
    const all = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n')]);
    const demuxer = new FrameDemuxer();
    const frames = [all.subarray(0, 3), all.subarray(3, 10), all.subarray(10, 17), all.subarray(17)].flatMap((chunk) => demuxer.push(chunk));
    expect(frames.map((f) => [f.stream, f.payload.toString()])).toEqual([
      ['stdout', 'hello\n'],
      ['stderr', 'oops\n'],
    ]);
  });
});

describe('OutputLines', () => {
  it('joins a line written across two frames and keeps streams apart', () => {
    const lines = new OutputLines();
    const out = [...lines.push(Buffer.concat([frame(1, 'par'), frame(2, 'err line\n')])), ...lines.push(frame(1, 'tial\nnext'))];
    expect(out).toEqual([
      { stream: 'stderr', text: 'err line' },
      { stream: 'stdout', text: 'partial' },
    ]);
    expect(lines.flush()).toEqual([{ stream: 'stdout', text: 'next' }]);
  });

  it('decodes a multi-byte character cut between chunks', () => {
    const bytes = frame(1, 'café\n');
    const lines = new OutputLines();
    const cut = bytes.length - 2; // inside the two bytes of "é"
    expect([...lines.push(bytes.subarray(0, cut)), ...lines.push(bytes.subarray(cut))]).toEqual([{ stream: 'stdout', text: 'café' }]);
  });

  it('demuxes a whole buffer including the unterminated last line', () => {
    expect(demuxAll(Buffer.concat([frame(1, 'a\r\nb')]))).toEqual([
      { stream: 'stdout', text: 'a' },
      { stream: 'stdout', text: 'b' },
    ]);
  });
});

describe('LineSplitter', () => {
  it('returns nothing until a newline arrives', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('abc'))).toEqual([]);
    expect(splitter.push(Buffer.from('\n'))).toEqual(['abc']);
    expect(splitter.flush()).toEqual([]);
  });
});

describe('splitTimestamp', () => {
  it("separates Docker's RFC 3339 prefix from the text", () => {
    const { at, text } = splitTimestamp('2024-05-01T10:20:30.123456789Z listening on 3000');
    expect(at?.toISOString()).toBe('2024-05-01T10:20:30.123Z');
    expect(text).toBe('listening on 3000');
  });

  it('leaves a line without a timestamp alone', () => {
    expect(splitTimestamp('plain words here')).toEqual({ at: undefined, text: 'plain words here' });
  });
});
