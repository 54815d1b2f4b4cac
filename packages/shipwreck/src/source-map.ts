/**
 * Where keys sit in a TOML text. smol-toml returns plain values without positions, so validation
 * errors find their line here: a best-effort, line-based scan of `[table]` headers and `key =`
 * lines that skips comments and multi-line strings. It never decides validity (the parser does);
 * a key it cannot place is reported at its nearest placed parent, or without a line.
 */
export class SourceMap {
  private readonly entries = new Map<string, { line: number; raw: string | undefined }>();

  static scan(text: string): SourceMap {
    const map = new SourceMap();
    let table: string[] = [];
    let openString: string | undefined;
    const lines = text.split(/\r?\n/);
    lines.forEach((content, index) => {
      const line = index + 1;
      if (openString !== undefined) {
        if (content.includes(openString)) openString = undefined;
        return;
      }
      const trimmed = content.trimStart();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const start = content.length - trimmed.length;
      if (trimmed.startsWith('[')) {
        const brackets = trimmed.startsWith('[[') ? 2 : 1;
        const key = readKeyPath(content, start + brackets);
        if (key && content[key.end] === ']') {
          table = key.path;
          map.record(table, line, undefined);
        }
        return;
      }
      const key = readKeyPath(content, start);
      if (!key || content[key.end] !== '=') return;
      const raw = content.slice(key.end + 1).trim();
      const path = [...table, ...key.path];
      map.record(path, line, raw);
      if (raw.startsWith('{')) map.recordInlineTable(path, line, raw);
      openString = opensMultilineString(raw);
    });
    return map;
  }

  /** The line of `path`, or of its nearest ancestor that has one (a missing key's table). */
  lineOf(path: readonly string[]): number | undefined {
    for (let length = path.length; length > 0; length--) {
      const entry = this.entries.get(keyOf(path.slice(0, length)));
      if (entry) return entry.line;
    }
    return undefined;
  }

  /** The line of exactly `path`, if it was found. */
  exactLineOf(path: readonly string[]): number | undefined {
    return this.entries.get(keyOf(path))?.line;
  }

  /** The text after `key =` on the key's line (comment included), to see a number as written. */
  rawValueOf(path: readonly string[]): string | undefined {
    return this.entries.get(keyOf(path))?.raw;
  }

  /** The `key = value` pairs of a one-line inline table (`env = { A = 1, B = "x" }`), one level deep. */
  private recordInlineTable(path: readonly string[], line: number, raw: string): void {
    let i = 1;
    for (;;) {
      const key = readKeyPath(raw, i);
      if (!key || raw[key.end] !== '=') return;
      const start = skipSpaces(raw, key.end + 1);
      const end = endOfValue(raw, start);
      this.record([...path, ...key.path], line, raw.slice(start, end).trim());
      i = skipSpaces(raw, end);
      if (raw[i] !== ',') return;
      i++;
    }
  }

  private record(path: readonly string[], line: number, raw: string | undefined): void {
    const key = keyOf(path);
    // TOML forbids defining a key twice, so the first sighting is the definition.
    if (!this.entries.has(key)) this.entries.set(key, { line, raw });
  }
}

function keyOf(path: readonly string[]): string {
  return path.join('\u0000');
}

/** A dotted key (bare, "basic" or 'literal' parts) starting at `from`; `end` is the next non-space. */
function readKeyPath(text: string, from: number): { path: string[]; end: number } | undefined {
  const path: string[] = [];
  let i = from;
  for (;;) {
    i = skipSpaces(text, i);
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const close = findClosingQuote(text, i + 1, quote);
      if (close < 0) return undefined;
      const inner = text.slice(i + 1, close);
      path.push(quote === '"' ? decodeBasic(inner) : inner);
      i = close + 1;
    } else {
      const bare = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
      if (!bare) return undefined;
      path.push(bare[0]);
      i += bare[0].length;
    }
    i = skipSpaces(text, i);
    if (text[i] !== '.') return { path, end: i };
    i++;
  }
}

function skipSpaces(text: string, i: number): number {
  while (text[i] === ' ' || text[i] === '\t') i++;
  return i;
}

function findClosingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** Index just past an inline value: at the next top-level ',' or the closing '}'. */
function endOfValue(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      const close = findClosingQuote(text, i + 1, ch);
      if (close < 0) return text.length;
      i = close;
    } else if (ch === '{' || ch === '[') {
      depth++;
    } else if (ch === '}' || ch === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (ch === ',' && depth === 0) {
      return i;
    }
  }
  return text.length;
}

function decodeBasic(inner: string): string {
  try {
    return JSON.parse(`"${inner}"`) as string;
  } catch {
    return inner;
  }
}

/** The delimiter still open at the end of a value that starts a multi-line string, if any. */
function opensMultilineString(raw: string): string | undefined {
  for (const delimiter of ['"""', "'''"]) {
    if (raw.startsWith(delimiter) && !raw.slice(delimiter.length).includes(delimiter)) return delimiter;
  }
  return undefined;
}
