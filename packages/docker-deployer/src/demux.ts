import type { OutputStream } from '@kraken/runtime';

/**
 * Docker multiplexes a non-TTY container's stdout and stderr into one stream of frames: an 8-byte
 * header (stream type, 3 zero bytes, big-endian payload length) then the payload. Frames and the
 * lines inside them are split arbitrarily across chunks, so both are reassembled here.
 */
export interface Frame {
  stream: OutputStream;
  payload: Buffer;
}

const HEADER_BYTES = 8;

export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  /** Frames completed by this chunk, in order; a partial frame waits for the next chunk. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + length) break;
      // type 2 is stderr; 0 (stdin echo) and 1 are shown as stdout
      const stream: OutputStream = this.pending[0] === 2 ? 'stderr' : 'stdout';
      frames.push({ stream, payload: this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      this.pending = this.pending.subarray(HEADER_BYTES + length);
    }
    return frames;
  }
}

/**
 * Splits text into lines across chunks. Bytes are kept until a newline so that a multi-byte UTF-8
 * character cut between frames decodes correctly.
 */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (let newline = this.pending.indexOf(10, start); newline !== -1; newline = this.pending.indexOf(10, start)) {
      lines.push(stripCr(this.pending.toString('utf8', start, newline)));
      start = newline + 1;
    }
    this.pending = this.pending.subarray(start);
    return lines;
  }

  /** The unterminated last line, if any (call when the stream ends). */
  flush(): string[] {
    if (this.pending.length === 0) return [];
    const rest = stripCr(this.pending.toString('utf8'));
    this.pending = Buffer.alloc(0);
    return [rest];
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

export interface OutputLine {
  stream: OutputStream;
  text: string;
}

/** Frames -> lines per stream: what callers of logs and test output want. */
export class OutputLines {
  private readonly demuxer = new FrameDemuxer();
  private readonly splitters: Record<OutputStream, LineSplitter> = { stdout: new LineSplitter(), stderr: new LineSplitter() };

  push(chunk: Buffer): OutputLine[] {
    const lines: OutputLine[] = [];
    for (const frame of this.demuxer.push(chunk)) {
      for (const text of this.splitters[frame.stream].push(frame.payload)) lines.push({ stream: frame.stream, text });
    }
    return lines;
  }

  flush(): OutputLine[] {
    return (['stdout', 'stderr'] as const).flatMap((stream) => this.splitters[stream].flush().map((text) => ({ stream, text })));
  }
}

/** All lines of a complete multiplexed buffer (e.g. `container.logs()` without follow). */
export function demuxAll(buffer: Buffer): OutputLine[] {
  const lines = new OutputLines();
  return [...lines.push(buffer), ...lines.flush()];
}

/**
 * With `timestamps: true` Docker prefixes every line with an RFC 3339 time and a space; the time is
 * when the app wrote the line, which is what log viewers should show.
 */
export function splitTimestamp(text: string): { at: Date | undefined; text: string; time?: string } {
  const space = text.indexOf(' ');
  if (space > 0) {
    const time = text.slice(0, space);
    const at = new Date(time);
    // `time` keeps the nanoseconds that `at` loses: a log cursor needs them
    if (!Number.isNaN(at.getTime()) && /^\d{4}-\d\d-\d\dT/.test(text)) return { at, text: text.slice(space + 1), time };
  }
  return { at: undefined, text };
}
