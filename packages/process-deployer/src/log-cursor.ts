import type { FilePosition } from './logs.js';

/** How far a deployment's stdout and stderr were delivered, after one line. */
export interface LogPosition {
  stdout: FilePosition;
  stderr: FilePosition;
}

/** The version of the cursor's format: a cursor of another version is not recognised, and followLogs falls back to `since`. */
const PREFIX = 'p1:';
const FORMAT = /^p1:((?:\d+-\d+)?):(\d{1,15}):((?:\d+-\d+)?):(\d{1,15})$/;

/** `p1:<dev>-<inode>:<offset>:<dev>-<inode>:<offset>` (stdout, then stderr; a file that did not exist has no identity). */
export function formatLogCursor(position: LogPosition): string {
  return `${PREFIX}${position.stdout.file}:${String(position.stdout.offset)}:${position.stderr.file}:${String(position.stderr.offset)}`;
}

/** The position a cursor names; undefined for one this runtime did not make (another runtime's, an older format). */
export function parseLogCursor(cursor: string): LogPosition | undefined {
  const match = FORMAT.exec(cursor);
  if (match === null) return undefined;
  const [, outFile = '', outOffset = '0', errFile = '', errOffset = '0'] = match;
  return { stdout: { file: outFile, offset: Number(outOffset) }, stderr: { file: errFile, offset: Number(errOffset) } };
}
