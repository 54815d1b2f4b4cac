import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { NodeView } from '../client/queries.js';
import { Queries } from '../client/queries.js';
import { formatTable } from '../client/table.js';
import { cpuCell, diskCell, usedOfTotal } from './list.js';

/** One sample per 10 s on the leader: 18 cells are the last three minutes. */
const SPARKLINE_CELLS = 18;
const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
/** Moves the cursor home and clears the screen: each redraw replaces the last on a terminal. */
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

export type WatchedNode = NodeView & { history: { at: number; cpuPercent: number | null }[] };

/**
 * The values as unicode blocks on a fixed 0..top scale (a percent: 100), so a bar's height means
 * the same in every redraw and on every node. A missing value is a blank, not a zero.
 */
export function sparkline(values: readonly (number | null)[], top = 100): string {
  return values
    .map((value) => {
      if (value === null || !Number.isFinite(value)) return ' ';
      const share = Math.min(Math.max(value / top, 0), 1);
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.floor(share * BLOCKS.length))] ?? ' ';
    })
    .join('');
}

export function watchTable(nodes: readonly WatchedNode[]): string {
  return formatTable(
    ['ID', 'STATE', 'CPU', 'CPU (last 3 min)', 'MEMORY', 'DISK', 'LOAD'],
    nodes.map((n) => [
      n.id,
      n.state.toLowerCase(),
      cpuCell(n),
      sparkline(n.history.slice(-SPARKLINE_CELLS).map((s) => s.cpuPercent)).padEnd(SPARKLINE_CELLS),
      usedOfTotal(n.ramUsed, n.ramTotal),
      diskCell(n),
      n.loadAvg5.toFixed(2),
    ]),
  );
}

export interface NodesWatchInput {
  intervalMs: number;
  /** Clears the screen before each redraw (a terminal); otherwise redraws follow each other. */
  clear: boolean;
  /** Ends the watch (Ctrl-C); it then exits 0. */
  signal?: AbortSignal;
  /** @default the wall clock, for the time each redraw shows */
  now?: () => Date;
}

/**
 * `kraken nodes --watch`: the node table with current CPU, memory and disk and a sparkline of
 * recent CPU, redrawn every interval until the signal. A failed request is shown in place of the
 * table and the watch goes on: the leader may be changing.
 */
export async function nodesWatchCommand(client: ApiClient, input: NodesWatchInput, io: CommandIo): Promise<ExitCode> {
  const now = input.now ?? (() => new Date());
  // a function, so the check after the request reads the signal again
  const stopped = (): boolean => input.signal?.aborted === true;
  while (!stopped()) {
    let body: string;
    try {
      const { getNodes } = await client.graphql<{ getNodes: WatchedNode[] }>(Queries.getNodesWithHistory);
      body = getNodes.length === 0 ? 'no node has sent a heartbeat yet' : watchTable(getNodes);
    } catch (error) {
      body = `cannot read the nodes: ${(error as Error).message}`;
    }
    if (stopped()) break;
    const header = `kraken nodes, every ${input.intervalMs / 1000} s (Ctrl-C to stop), ${now().toLocaleTimeString()}`;
    io.out(`${input.clear ? CLEAR_SCREEN : ''}${header}\n${body}\n`);
    try {
      await sleep(input.intervalMs, undefined, input.signal === undefined ? {} : { signal: input.signal });
    } catch {
      break; // aborted: Ctrl-C
    }
  }
  return ExitCode.Ok;
}
