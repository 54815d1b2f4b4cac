/** Keeps the last `size` lines of a step's output for its error message, without holding a whole log. */
export class Tail {
  private readonly kept: string[] = [];
  constructor(private readonly size: number) {}

  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.size) this.kept.shift();
  }

  get lines(): readonly string[] {
    return this.kept;
  }

  /** An indented block for the end of an error message, or '' when there is nothing. */
  format(label = 'last output lines'): string {
    return this.kept.length === 0 ? '' : `\n${label}:\n${this.kept.map((line) => `  ${line}`).join('\n')}`;
  }
}
