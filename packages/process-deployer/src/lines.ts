import { StringDecoder } from 'node:string_decoder';

/** Longer lines are cut into pieces of this many characters, so one endless line cannot fill memory. */
export const MAX_LINE_CHARS = 16 * 1024;

/**
 * Turns chunks of output into lines. Chunks split lines (and UTF-8 characters) anywhere; a line
 * ends at \n, and a \r before it is dropped.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  push(chunk: Buffer): string[] {
    this.pending += this.decoder.write(chunk);
    const lines: string[] = [];
    for (;;) {
      const end = this.pending.indexOf('\n');
      if (end < 0) break;
      lines.push(this.pending.slice(0, end).replace(/\r$/, ''));
      this.pending = this.pending.slice(end + 1);
    }
    while (this.pending.length > MAX_LINE_CHARS) {
      lines.push(this.pending.slice(0, MAX_LINE_CHARS));
      this.pending = this.pending.slice(MAX_LINE_CHARS);
    }
    return lines;
  }

  /** The unterminated last line, if any (call when the output has ended). */
  flush(): string[] {
    const rest = (this.pending + this.decoder.end()).replace(/\r$/, '');
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}

/** An indented block for the end of an error message. */
export function formatOutput(lines: readonly string[], label = 'last output lines'): string {
  return lines.length === 0 ? '\n(no output)' : `\n${label}:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}
