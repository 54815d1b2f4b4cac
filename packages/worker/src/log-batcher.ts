import type { DeployLogBody, LogLine, LogStream } from '@kraken/messages';
import { LogLimits } from '@kraken/messages';

export interface LogBatcherOptions {
  deploymentId: string;
  /** Send as soon as this many lines wait. */
  flushLines: number;
  /** Send what waits once the oldest waiting line is this old. */
  flushIntervalMs: number;
  /** Lines held while a send is slow; the oldest beyond it are dropped and counted. */
  bufferLines: number;
  /** Estimated encoded size a batch stays under. */
  batchBytes: number;
  /** Publishes one batch; resolves true when sent, false when the broker dropped it. */
  send(body: DeployLogBody): Promise<boolean>;
  /** A send that threw; its lines are counted as dropped. */
  onSendError(error: unknown): void;
  /** The broker confirmed a batch: `cursor` is that of its last line that had one (see push). */
  onConfirmed?: ((cursor: string) => void) | undefined;
}

export interface LogBatcherStats {
  /** Next batch number. */
  seq: number;
  linesSent: number;
  /** Lines lost (buffer overflow, broker drops), reported or still to report in `dropped`. */
  linesDropped: number;
}

interface Pending {
  line: LogLine;
  bytes: number;
  /** Where the line ends in the runtime's log (LogLine.cursor of the deployer). */
  cursor: string | undefined;
}

/** Room for `{"stream":"stderr","text":,"at":"2025-01-01T00:00:00.000Z"},` around the text. */
const LINE_OVERHEAD_BYTES = 64;
/** Envelope and body fields around the lines. */
const BATCH_OVERHEAD_BYTES = 512;

/**
 * Turns one deployment's stream of lines into `deploy.log` batches: at most one send in flight,
 * `seq` +1 per batch (a lost batch leaves a gap), and every line lost on the way counted in the
 * next batch's `dropped`, so the orchestrator always knows what it did not get.
 */
export class LogBatcher {
  private buffer: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private due = false;
  private sending: Promise<void> | undefined;
  private nextSeq = 0;
  private droppedToReport = 0;
  private linesSent = 0;
  private linesDropped = 0;
  private closed = false;
  /** The last time stamp written out: the lines of one read share it, and need not each build it. */
  private lastAtMs = Number.NaN;
  private lastAtText = '';

  constructor(private readonly options: LogBatcherOptions) {}

  /** `cursor` says where the line ends in the runtime's log: the batch that carries it confirms it. */
  push(stream: LogStream, text: string, at: Date, cursor?: string): void {
    if (this.closed) return;
    const line: LogLine = { stream, text: truncateUtf8(text, LogLimits.maxLineBytes), at: this.timeText(at) };
    if (this.buffer.length >= this.options.bufferLines) {
      this.buffer.shift();
      this.countDropped(1);
    }
    this.buffer.push({ line, bytes: jsonTextBytes(line.text) + LINE_OVERHEAD_BYTES, cursor });
    if (this.buffer.length >= this.options.flushLines) this.kick();
    else this.armTimer();
  }

  /** Sends everything waiting now, whatever its size or age. */
  async flush(): Promise<void> {
    this.due = true;
    this.kick();
    while (this.sending) await this.sending;
  }

  /** Flushes what waits and stops; later lines are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.clearTimer();
  }

  /** Stops at once, dropping (and counting) what waits: for a worker that is going away. */
  discard(): void {
    this.closed = true;
    this.clearTimer();
    this.countDropped(this.buffer.length);
    this.buffer = [];
  }

  /** Lines that can still wait before the oldest are dropped. */
  room(): number {
    return this.options.bufferLines - this.buffer.length;
  }

  stats(): LogBatcherStats {
    return { seq: this.nextSeq, linesSent: this.linesSent, linesDropped: this.linesDropped };
  }

  private timeText(at: Date): string {
    const ms = at.getTime();
    if (ms !== this.lastAtMs) {
      this.lastAtMs = ms;
      this.lastAtText = at.toISOString();
    }
    return this.lastAtText;
  }

  /** Lines lost, here or before they reached the batcher: reported in the next batch's `dropped`. */
  countDropped(lines: number): void {
    this.droppedToReport += lines;
    this.linesDropped += lines;
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.due || this.buffer.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.kick();
    }, this.options.flushIntervalMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    if (this.sending) return;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      // lines that arrived during the last send and are too few for a batch wait for the timer
      this.armTimer();
    });
  }

  private async drain(): Promise<void> {
    while (this.buffer.length >= this.options.flushLines || (this.due && this.buffer.length > 0)) {
      const { lines, cursor } = this.takeBatch();
      if (this.buffer.length === 0) {
        this.due = false;
        this.clearTimer();
      }
      const dropped = this.droppedToReport;
      this.droppedToReport = 0;
      const body: DeployLogBody = {
        deploymentId: this.options.deploymentId,
        seq: this.nextSeq++,
        lines,
        ...(dropped > 0 ? { dropped } : {}),
      };
      let sent = false;
      try {
        sent = await this.options.send(body);
      } catch (error) {
        this.options.onSendError(error);
      }
      if (sent) {
        this.linesSent += lines.length;
        if (cursor !== undefined) this.options.onConfirmed?.(cursor);
      } else {
        // the drops this batch reported were lost with it: report them again, with its own lines
        this.droppedToReport += dropped;
        this.countDropped(lines.length);
      }
    }
    if (this.buffer.length === 0) this.due = false;
  }

  private takeBatch(): { lines: LogLine[]; cursor: string | undefined } {
    const max = Math.min(this.options.flushLines, LogLimits.maxLinesPerBatch);
    let bytes = BATCH_OVERHEAD_BYTES;
    let count = 0;
    while (count < max && count < this.buffer.length) {
      const next = this.buffer[count];
      if (next === undefined) break;
      // the first line always goes: it fits on its own because lines are capped at 16 KiB
      if (count > 0 && bytes + next.bytes > this.options.batchBytes) break;
      bytes += next.bytes;
      count++;
    }
    const taken = this.buffer.splice(0, count);
    let cursor: string | undefined;
    const lines = taken.map((pending) => {
      cursor = pending.cursor ?? cursor;
      return pending.line;
    });
    return { lines, cursor };
  }
}

/** Characters JSON escapes (quote, backslash, controls) and surrogates, whose escaped size differs. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const ESCAPED_IN_JSON = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The size of `text` as a JSON string, in UTF-8 bytes. Noisy apps send thousands of lines a
 * second, nearly all plain: those are measured without building their encoding.
 */
export function jsonTextBytes(text: string): number {
  return ESCAPED_IN_JSON.test(text) ? Buffer.byteLength(JSON.stringify(text)) : Buffer.byteLength(text) + 2;
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // step back over continuation bytes (10xxxxxx) to the start of the cut character
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
