import type { FilePosition } from './logs.js';

/** How far a deployment's stdout and stderr were delivered, after one line. */
export interface LogPosition {
  stdout: FilePosition;
  stderr: FilePosition;
}

/** The version of the cursor's format: a cursor of another version is not recognised, and followLogs falls back to `since`. */
const PREFIX = 'p2:';
const FORMAT = /^p2:((?:\d+-\d+)?):(\d{1,15}):(\d{1,15}):((?:\d+-\d+)?):(\d{1,15}):(\d{1,15})$/;

/**
 * `p2:<dev>-<inode>:<offset>:<line>:<dev>-<inode>:<offset>:<line>` (stdout, then stderr; a file
 * that did not exist has no identity). The line number says how many lines a cut of the file's
 * front (its bound) took away after the cursor; p1 cursors had none, and are not recognised.
 */
export function formatLogCursor(position: LogPosition): string {
  const part = ({ file, offset, line }: FilePosition): string => `${file}:${String(offset)}:${String(line)}`;
  return `${PREFIX}${part(position.stdout)}:${part(position.stderr)}`;
}

/** The position a cursor names; undefined for one this runtime did not make (another runtime's, an older format). */
export function parseLogCursor(cursor: string): LogPosition | undefined {
  const match = FORMAT.exec(cursor);
  if (match === null) return undefined;
  const [, outFile = '', outOffset = '0', outLine = '0', errFile = '', errOffset = '0', errLine = '0'] = match;
  return {
    stdout: { file: outFile, offset: Number(outOffset), line: Number(outLine) },
    stderr: { file: errFile, offset: Number(errOffset), line: Number(errLine) },
  };
}
