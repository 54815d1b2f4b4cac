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

/** One of the samples the leader keeps per node (GraphQL NodeSample). */
interface NodeSampleView {
  at: number;
  cpuPercent: number | null;
  memUsedMb: number;
  memTotalMb: number;
  diskUsedMb: number | null;
  diskTotalMb: number | null;
}

export type WatchedNode = NodeView & { history: NodeSampleView[] };

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

/** Used as a percent of total; null where the node does not report it (or reports no total). */
function percentOf(used: number | null, total: number | null): number | null {
  return used === null || total === null || total <= 0 ? null : (used / total) * 100;
}

/** The recent samples of one measure as a sparkline of fixed width, so the columns stay aligned. */
function recent(node: WatchedNode, measure: (sample: NodeSampleView) => number | null): string {
  return sparkline(node.history.slice(-SPARKLINE_CELLS).map(measure)).padEnd(SPARKLINE_CELLS);
}

export function watchTable(nodes: readonly WatchedNode[]): string {
  return formatTable(
    ['ID', 'STATE', 'CPU', 'CPU (last 3 min)', 'MEMORY', 'MEMORY (last 3 min)', 'DISK', 'DISK (last 3 min)', 'LOAD'],
    nodes.map((n) => [
      n.id,
      n.state.toLowerCase(),
      cpuCell(n),
      recent(n, (s) => s.cpuPercent),
      usedOfTotal(n.ramUsed, n.ramTotal),
      recent(n, (s) => percentOf(s.memUsedMb, s.memTotalMb)),
      diskCell(n),
      recent(n, (s) => percentOf(s.diskUsedMb, s.diskTotalMb)),
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
 * `kraken nodes --watch`: the node table with current CPU, memory and disk, each beside a sparkline
 * of its last three minutes (as a share of the node's capacity), redrawn every interval until the signal. A failed request is shown in place of the
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
