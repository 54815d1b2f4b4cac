// The pure half of the chaos run (tools/chaos/run.mjs): a seeded schedule of faults and API
// operations, and the verdicts on what the cluster looked like once it settled. No I/O here, so the
// same seed gives the same run and the verdicts are unit-tested (schedule.spec.ts).
import { seededRandom } from '@kraken/common';

/** What a fault does to a host for `forMs`, after which it is undone (or, for some, undoes itself). */
export type FaultKind =
  /** every process of the host dies (agent and apps, a crash); its agent starts again afterwards */
  | 'crash'
  /** SIGSTOP to its agent, SIGCONT afterwards (a hung process, a suspended laptop) */
  | 'pause'
  /** its link is cut, restored afterwards (a pulled cable) */
  | 'cut'
  /** 30% of its packets dropped each way, clean afterwards (bad Wi-Fi) */
  | 'loss'
  /** one live app instance, on any host, gets SIGKILL (a crashing app); its runtime restarts it */
  | 'app-crash'
  /** 200 ms added each way to its broker traffic (a slow link), none afterwards */
  | 'delay'
  /** SIGKILL to its own RabbitMQ node's process group (a crashed broker); its agent restarts it */
  | 'broker-crash'
  /** SIGTERM to its Docker engine, which stops its containers (the agent stays up); the engine starts again afterwards */
  | 'engine-restart';

/** Every fault the run knows, in the order a schedule draws from. */
const FAULT_KINDS: readonly FaultKind[] = ['crash', 'pause', 'cut', 'loss', 'app-crash', 'delay', 'broker-crash', 'engine-restart'];

/**
 * The faults each mode of the run can inflict. Workers reach the machine's RabbitMQ through a
 * delaying relay, which a RabbitMQ node per host (leader faults) has no place for; those nodes can
 * crash, while the machine's RabbitMQ, shared with everything else here, must not. Only workers
 * with a Docker engine of their own (engines) have an engine to restart.
 */
export const FAULT_KINDS_BY_MODE: Readonly<Record<'workers' | 'leader-faults' | 'engines', readonly FaultKind[]>> = {
  workers: ['crash', 'pause', 'cut', 'loss', 'app-crash', 'delay'],
  'leader-faults': ['crash', 'pause', 'cut', 'loss', 'app-crash', 'broker-crash'],
  engines: ['crash', 'pause', 'cut', 'loss', 'app-crash', 'delay', 'engine-restart'],
};

interface Fault {
  atMs: number;
  kind: FaultKind;
  host: number;
  forMs: number;
  /** For app-crash: which live instance, index = floor(pick * count). */
  pick: number;
}

type OperationKind = 'create' | 'cancel' | 'redeploy';

interface Operation {
  atMs: number;
  kind: OperationKind;
  /** For a create: an app that floods its log (bursts of lines), so log gaps under load show. */
  noisy: boolean;
  /** Picks which deployment a cancel or redeploy targets, among those alive then: index = floor(pick * count). */
  pick: number;
}

export interface Schedule {
  seed: number;
  durationMs: number;
  faults: Fault[];
  operations: Operation[];
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  /** The hosts faults may hit. */
  faultHosts: readonly number[];
  /** The faults it may draw (FAULT_KINDS_BY_MODE): each equally likely. */
  kinds: readonly FaultKind[];
  /** Gap between one fault's end and the next fault's start. @default 5_000..20_000 */
  faultGapMs?: readonly [number, number];
  /** How long a fault lasts. @default 4_000..25_000 */
  faultLengthMs?: readonly [number, number];
  /** Gap between API operations. @default 4_000..12_000 */
  operationGapMs?: readonly [number, number];
}

/**
 * One fault at a time (the cluster keeps a majority of healthy workers, so every invariant can
 * hold), operations throughout; the first operation is always a create, so there is something to
 * cancel and redeploy.
 */
export function chaosSchedule(options: ScheduleOptions): Schedule {
  const { seed, durationMs, faultHosts, kinds } = options;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`chaos: the seed must be a whole number of 0 or more, got ${String(seed)}`);
  if (!(durationMs > 0)) throw new Error(`chaos: the duration must be positive, got ${String(durationMs)}`);
  if (faultHosts.length === 0) throw new Error('chaos: no host to put faults on');
  const unknown = kinds.filter((kind) => !FAULT_KINDS.includes(kind));
  if (kinds.length === 0 || unknown.length > 0) throw new Error(`chaos: the faults must be some of ${FAULT_KINDS.join(', ')}; got ${kinds.join(', ') || 'none'}`);
  const random = seededRandom(seed);
  const between = ([low, high]: readonly [number, number]) => Math.round(low + random() * (high - low));
  const faults: Fault[] = [];
  for (let at = between(options.faultGapMs ?? [5_000, 20_000]); at < durationMs; ) {
    const kind = kinds[Math.floor(random() * kinds.length)] ?? 'crash';
    const host = faultHosts[Math.floor(random() * faultHosts.length)] ?? faultHosts[0] ?? 0;
    const forMs = Math.min(between(options.faultLengthMs ?? [4_000, 25_000]), durationMs - at);
    faults.push({ atMs: at, kind, host, forMs, pick: random() });
    at += forMs + between(options.faultGapMs ?? [5_000, 20_000]);
  }
  const operations: Operation[] = [];
  for (let at = 0; at < durationMs; at += between(options.operationGapMs ?? [4_000, 12_000])) {
    const roll = random();
    const kind: OperationKind = operations.length === 0 || roll < 0.5 ? 'create' : roll < 0.75 ? 'redeploy' : 'cancel';
    operations.push({ atMs: at, kind, pick: random(), noisy: random() < 0.25 });
  }
  return { seed, durationMs, faults, operations };
}

// ---- verdicts ----------------------------------------------------------------------------------

/** What the run saw of one deployment it created, once the cluster settled. */
export interface ObservedDeployment {
  id: string;
  name: string;
  /** Whether the run cancelled it (and the API acknowledged the cancel). */
  cancelled: boolean;
  /** Its status in the API after settling; undefined when the API no longer knows it. */
  status: string | undefined;
  /**
   * Whether the API's record still has the source it was created from; false for a record the
   * leader rebuilt from a node's report (adopted: the created one was lost). Undefined when unknown.
   */
  sourceKept?: boolean | undefined;
  /** Instances of its app alive on any host (the app records its pid when it starts). */
  instances: number;
  /** Whether its deploymentUrl answered 200 with its own name. */
  answers: boolean;
  /**
   * The versions it may serve: from the last one whose redeploy the API acknowledged to the last
   * one pushed (a redeploy that failed to answer may still have happened). And the one it served.
   */
  versions: { acknowledged: number; pushed: number };
  servedVersion: number | undefined;
  /** Ticks missing in its stored log between the first and the last of each instance. */
  logGaps: number;
}

export interface Verdict {
  invariant: string;
  passed: boolean;
  detail: string;
}

/** Statuses a deployment may rest in; anything else after settling is stuck. */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['RUNNING', 'DESTROYED', 'ERRORED', 'STOPPED']);

export function verdicts(deployments: readonly ObservedDeployment[]): Verdict[] {
  const names = (list: readonly ObservedDeployment[]) => (list.length === 0 ? 'none' : list.map((d) => d.name).join(', '));
  const lost = deployments.filter((d) => d.status === undefined || d.sourceKept === false);
  const stuck = deployments.filter((d) => d.status !== undefined && !FINAL_STATUSES.has(d.status));
  const shouldRun = deployments.filter((d) => !d.cancelled);
  const notRunning = shouldRun.filter((d) => d.status !== 'RUNNING');
  const cancelledAlive = deployments.filter((d) => d.cancelled && (d.status !== 'DESTROYED' || d.instances > 0));
  const twice = deployments.filter((d) => d.instances > 1);
  const missing = shouldRun.filter((d) => d.status === 'RUNNING' && d.instances === 0);
  const silent = shouldRun.filter((d) => d.status === 'RUNNING' && !d.answers);
  const stale = shouldRun.filter(
    (d) => d.status === 'RUNNING' && d.answers && (d.servedVersion === undefined || d.servedVersion < d.versions.acknowledged || d.servedVersion > d.versions.pushed),
  );
  return [
    {
      invariant: 'every acknowledged create persisted',
      passed: lost.length === 0,
      detail: `${deployments.length} created; lost: ${lost.map((d) => (d.status === undefined ? d.name : `${d.name} (its record rebuilt from a node's report)`)).join(', ') || 'none'}`,
    },
    { invariant: 'none stuck in a non-final status', passed: stuck.length === 0, detail: `stuck: ${stuck.map((d) => `${d.name} ${d.status ?? ''}`).join(', ') || 'none'}` },
    { invariant: 'each one not cancelled is RUNNING', passed: notRunning.length === 0, detail: `${shouldRun.length} should run; not running: ${notRunning.map((d) => `${d.name} ${d.status ?? 'unknown'}`).join(', ') || 'none'}` },
    { invariant: 'each cancelled one is DESTROYED with nothing left running', passed: cancelledAlive.length === 0, detail: `${deployments.length - shouldRun.length} cancelled; still there: ${names(cancelledAlive)}` },
    { invariant: 'none runs twice', passed: twice.length === 0, detail: `twice or more: ${twice.map((d) => `${d.name} x${d.instances}`).join(', ') || 'none'}` },
    { invariant: 'each RUNNING one has an instance', passed: missing.length === 0, detail: `none alive: ${names(missing)}` },
    { invariant: 'each RUNNING one answers HTTP at its deploymentUrl', passed: silent.length === 0, detail: `not answering: ${names(silent)}` },
    { invariant: 'each serves its last acknowledged version', passed: stale.length === 0, detail: `stale: ${stale.map((d) => `${d.name} v${String(d.servedVersion)} (want v${d.versions.acknowledged}..v${d.versions.pushed})`).join(', ') || 'none'}` },
  ];
}

/** What one agent's API said leads the cluster; `leader` undefined when it did not answer. */
export interface LeaderView {
  agent: string;
  leader: string | undefined;
  epoch: number | undefined;
}

/**
 * Every agent answers the API for whichever leads, as it knows it: once settled, all of them must
 * name one leader in one term (a former leader still acting after a fault, or an agent following
 * a stale one, shows as a second name or term).
 */
export function leaderVerdict(views: readonly LeaderView[]): Verdict {
  const named = new Set(views.map((view) => (view.leader === undefined ? 'no answer' : `${view.leader} (term ${String(view.epoch)})`)));
  return {
    invariant: 'every agent follows one leader',
    passed: named.size === 1 && !named.has('no answer'),
    detail: views.map((view) => `${view.agent}: ${view.leader === undefined ? 'no answer' : `${view.leader} term ${String(view.epoch)}`}`).join(', '),
  };
}

/** Missing ticks per instance: `lines` are the app's log lines, `chaos <instance> tick <n>` (its pid, or pid.start-time). */
export function logGaps(lines: readonly string[]): number {
  const ticks = new Map<string, Set<number>>();
  for (const line of lines) {
    const match = /chaos ([\d.]+) tick (\d+)/.exec(line);
    if (match === null) continue;
    const [, instance = '', tick = '0'] = match;
    const seen = ticks.get(instance) ?? new Set<number>();
    seen.add(Number(tick));
    ticks.set(instance, seen);
  }
  let gaps = 0;
  for (const seen of ticks.values()) {
    const sorted = [...seen].sort((a, b) => a - b);
    gaps += (sorted.at(-1) ?? 0) - (sorted[0] ?? 0) + 1 - sorted.length;
  }
  return gaps;
}

/** A fixed-width table of rows, for the run's printout. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>((max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd()).join('\n');
}
