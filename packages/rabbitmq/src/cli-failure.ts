/** What a rejected `execFile` carries besides its message. */
interface ExecFailure {
  /** The exit code, or a spawn error's code (`ENOENT`). */
  code?: number | string | null;
  signal?: NodeJS.Signals | null;
  /** Set when execFile killed the tool itself (its timeout ran out). */
  killed?: boolean;
  stdout?: string;
  stderr?: string;
}

/** Long enough for the rabbitmqctl diagnostics that name the cause (epmd, cookie), short enough for one log line. */
const MAX_OUTPUT_CHARS = 1_500;

// eslint-disable-next-line no-control-regex -- the escape character is what it matches
const ANSI_STYLE = /\u001b\[[0-9;]*m/g;

/**
 * How a CLI run failed, in one line: its exit (code, signal or timeout) and what it printed. The
 * RabbitMQ tools put a failed command's reason on the lines after an `Error:` line of its own
 * (`Error:\n{:rabbit, {...}}`), on stderr, or on stdout for some commands: all of it is kept,
 * indentation and blank lines folded away.
 */
export function describeCliFailure(error: unknown, timeoutMs: number): string {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as ExecFailure;
  const exit =
    failure.killed === true
      ? `killed after its ${timeoutMs} ms timeout`
      : typeof failure.code === 'number'
        ? `exit code ${failure.code}`
        : typeof failure.code === 'string'
          ? `could not run: ${failure.code}`
          : typeof failure.signal === 'string'
            ? `ended by ${failure.signal}`
            : 'no exit code';
  const said = oneLine(failure.stderr) || oneLine(failure.stdout);
  if (said !== '') return `${exit}: ${said}`;
  return `${exit}, printing nothing${error instanceof Error && failure.code === undefined ? ` (${error.message})` : ''}`;
}

function oneLine(output: string | undefined): string {
  const text = (output ?? '')
    .replace(ANSI_STYLE, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
  return text.length > MAX_OUTPUT_CHARS ? `${text.slice(0, MAX_OUTPUT_CHARS)}…` : text;
}
