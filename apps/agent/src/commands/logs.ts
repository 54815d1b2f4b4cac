import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { LogLineView } from '../client/queries.js';
import { Queries } from '../client/queries.js';

export interface LogsInput {
  id: string;
  follow: boolean;
  /** Show only the last N lines of what is stored. */
  tail?: number | undefined;
  json: boolean;
  /** Only the lines of this release (`kraken releases <id>` lists them). */
  release?: number | undefined;
  /** Ends --follow (Ctrl-C in the CLI). */
  signal?: AbortSignal;
  /** @default 500 */
  pollIntervalMs?: number;
}

interface LogPage {
  lines: LogLineView[];
  next: number;
  dropped: number;
}

/** `kraken logs [-f] [--release N] <id>`: what is stored, then (with -f) new lines as they arrive. */
export async function logsCommand(client: ApiClient, input: LogsInput, io: CommandIo): Promise<ExitCode> {
  const print = (line: LogLineView) => {
    io.out(input.json ? JSON.stringify(line) : line.stream === 'stderr' || line.stream === 'stdout' ? line.text : `[${line.stream}] ${line.text}`);
  };
  let after = 0;
  const stored: LogLineView[] = [];
  let dropped = 0;
  for (;;) {
    const page = await fetchPage(client, input, after);
    dropped = page.dropped;
    stored.push(...page.lines);
    if (page.lines.length === 0 || page.next === after) break;
    after = page.next;
  }
  if (dropped > 0 && !input.json) io.err(`(${dropped} older lines were dropped to keep the log bounded)`);
  for (const line of input.tail === undefined ? stored : stored.slice(-input.tail)) print(line);
  while (input.follow && input.signal?.aborted !== true) {
    await new Promise((resolve) => setTimeout(resolve, input.pollIntervalMs ?? 500));
    const page = await fetchPage(client, input, after);
    for (const line of page.lines) print(line);
    after = page.next;
  }
  return ExitCode.Ok;
}

async function fetchPage(client: ApiClient, input: LogsInput, after: number): Promise<LogPage> {
  const { logs } = await client.graphql<{ logs: LogPage }>(Queries.logs, { id: input.id, after, limit: 500, release: input.release ?? null });
  return logs;
}
