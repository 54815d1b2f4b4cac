import type { ObservedDeployment } from './schedule.js';
import { FAULT_KINDS_BY_MODE, chaosSchedule, leaderVerdict, logGaps, table, verdicts } from './schedule.js';

const healthy = (name: string, overrides: Partial<ObservedDeployment> = {}): ObservedDeployment => ({
  id: `${name}-abc123`,
  name,
  cancelled: false,
  status: 'RUNNING',
  instances: 1,
  answers: true,
  versions: { acknowledged: 1, pushed: 1 },
  servedVersion: 1,
  logGaps: 0,
  ...overrides,
});

describe('chaos schedule', () => {
  it('replays exactly from its seed, and differs with another', () => {
    const options = { durationMs: 180_000, faultHosts: [2, 3], kinds: FAULT_KINDS_BY_MODE.workers };
    expect(chaosSchedule({ seed: 7, ...options })).toEqual(chaosSchedule({ seed: 7, ...options }));
    expect(chaosSchedule({ seed: 8, ...options })).not.toEqual(chaosSchedule({ seed: 7, ...options }));
  });

  it('puts one fault at a time on the given hosts, each over before the run ends, and starts with a create', () => {
    const schedule = chaosSchedule({ seed: 42, durationMs: 600_000, faultHosts: [2, 3], kinds: FAULT_KINDS_BY_MODE.workers });
    expect(schedule.faults.length).toBeGreaterThan(5);
    for (const [index, fault] of schedule.faults.entries()) {
      expect([2, 3]).toContain(fault.host);
      expect(fault.atMs + fault.forMs).toBeLessThanOrEqual(600_000);
      const next = schedule.faults[index + 1];
      if (next !== undefined) expect(next.atMs).toBeGreaterThan(fault.atMs + fault.forMs);
    }
    expect(new Set(schedule.faults.map((fault) => fault.kind))).toEqual(new Set(['crash', 'pause', 'cut', 'loss', 'app-crash', 'delay']));
    expect(schedule.operations.some((operation) => operation.kind === 'create' && operation.noisy)).toBe(true);
    expect(schedule.operations[0]?.kind).toBe('create');
    expect(new Set(schedule.operations.map((operation) => operation.kind))).toEqual(new Set(['create', 'cancel', 'redeploy']));
  });

  it('draws only the faults its mode allows: a broker crash with a RabbitMQ node per host, a delay on the relayed workers, an engine restart where workers run engines', () => {
    const kindsOf = (mode: keyof typeof FAULT_KINDS_BY_MODE) =>
      new Set(chaosSchedule({ seed: 3, durationMs: 3_600_000, faultHosts: [1, 2, 3], kinds: FAULT_KINDS_BY_MODE[mode] }).faults.map((fault) => fault.kind));
    expect(kindsOf('leader-faults')).toEqual(new Set(['crash', 'pause', 'cut', 'loss', 'app-crash', 'broker-crash']));
    expect(kindsOf('workers')).toEqual(new Set(['crash', 'pause', 'cut', 'loss', 'app-crash', 'delay']));
    expect(kindsOf('engines')).toEqual(new Set(['crash', 'pause', 'cut', 'loss', 'app-crash', 'delay', 'engine-restart']));
    const delays = chaosSchedule({ seed: 5, durationMs: 600_000, faultHosts: [2, 3], kinds: ['delay'] });
    expect(new Set(delays.faults.map((fault) => fault.kind))).toEqual(new Set(['delay']));
    expect(delays).toEqual(chaosSchedule({ seed: 5, durationMs: 600_000, faultHosts: [2, 3], kinds: ['delay'] }));
  });

  it('refuses a seed, duration, host list or fault list it cannot use', () => {
    const kinds = FAULT_KINDS_BY_MODE.workers;
    expect(() => chaosSchedule({ seed: -1, durationMs: 1_000, faultHosts: [2], kinds })).toThrow('the seed must be a whole number of 0 or more, got -1');
    expect(() => chaosSchedule({ seed: 1, durationMs: 0, faultHosts: [2], kinds })).toThrow('the duration must be positive, got 0');
    expect(() => chaosSchedule({ seed: 1, durationMs: 1_000, faultHosts: [], kinds })).toThrow('no host to put faults on');
    expect(() => chaosSchedule({ seed: 1, durationMs: 1_000, faultHosts: [2], kinds: [] })).toThrow(
      'the faults must be some of crash, pause, cut, loss, app-crash, delay, broker-crash, engine-restart; got none',
    );
    expect(() => chaosSchedule({ seed: 1, durationMs: 1_000, faultHosts: [2], kinds: ['meteor' as 'crash'] })).toThrow('got meteor');
  });
});

describe('chaos verdicts', () => {
  it('passes a settled cluster: running ones once and answering, cancelled ones destroyed with nothing left', () => {
    const results = verdicts([healthy('a'), healthy('b', { versions: { acknowledged: 2, pushed: 3 }, servedVersion: 3 }), healthy('c', { cancelled: true, status: 'DESTROYED', instances: 0, answers: false, servedVersion: undefined })]);
    expect(results.filter((verdict) => !verdict.passed)).toEqual([]);
    expect(results).toHaveLength(8);
  });

  it('names what broke each invariant', () => {
    const failed = verdicts([
      healthy('lost', { status: undefined }),
      healthy('rebuilt', { sourceKept: false }),
      healthy('stuck', { status: 'DEPLOYING' }),
      healthy('twice', { instances: 2 }),
      healthy('ghost', { instances: 0 }),
      healthy('mute', { answers: false, servedVersion: undefined }),
      healthy('old', { versions: { acknowledged: 2, pushed: 2 }, servedVersion: 1 }),
      healthy('zombie', { cancelled: true, status: 'DESTROYED', instances: 1 }),
    ]).filter((verdict) => !verdict.passed);
    expect(failed.map((verdict) => [verdict.invariant, verdict.detail])).toEqual([
      ['every acknowledged create persisted', "8 created; lost: lost, rebuilt (its record rebuilt from a node's report)"],
      ['none stuck in a non-final status', 'stuck: stuck DEPLOYING'],
      ['each one not cancelled is RUNNING', '7 should run; not running: lost unknown, stuck DEPLOYING'],
      ['each cancelled one is DESTROYED with nothing left running', '1 cancelled; still there: zombie'],
      ['none runs twice', 'twice or more: twice x2'],
      ['each RUNNING one has an instance', 'none alive: ghost'],
      ['each RUNNING one answers HTTP at its deploymentUrl', 'not answering: mute'],
      ['each serves its last acknowledged version', 'stale: old v1 (want v2..v2)'],
    ]);
  });

  it('counts the ticks missing between the first and last of each instance', () => {
    expect(logGaps(['chaos 10 tick 0', 'chaos 10 tick 1', 'chaos 10 tick 4', 'building', 'chaos 22 tick 7', 'chaos 22 tick 8'])).toBe(2);
    expect(logGaps([])).toBe(0);
    // a container restarted by its engine may get the same pid: its start time tells the instances apart
    expect(logGaps(['chaos 7.1000 tick 0', 'chaos 7.1000 tick 3', 'chaos 7.2000 tick 0', 'chaos 7.2000 tick 1'])).toBe(2);
  });

  it('prints rows as aligned columns', () => {
    expect(table([['a', 'bb'], ['ccc', 'd']])).toBe('a    bb\nccc  d');
  });
});

describe('the leader verdict', () => {
  it('passes when every agent names one leader in one term, and says who named what otherwise', () => {
    const agreed = leaderVerdict([
      { agent: 'agent-1', leader: 'agent-2', epoch: 4 },
      { agent: 'agent-2', leader: 'agent-2', epoch: 4 },
    ]);
    expect(agreed).toEqual({ invariant: 'every agent follows one leader', passed: true, detail: 'agent-1: agent-2 term 4, agent-2: agent-2 term 4' });
    expect(leaderVerdict([{ agent: 'agent-1', leader: 'agent-1', epoch: 3 }, { agent: 'agent-2', leader: 'agent-2', epoch: 4 }]).passed).toBe(false);
    expect(leaderVerdict([{ agent: 'agent-1', leader: 'agent-2', epoch: 3 }, { agent: 'agent-2', leader: 'agent-2', epoch: 4 }]).passed).toBe(false);
    expect(leaderVerdict([{ agent: 'agent-1', leader: undefined, epoch: undefined }]).passed).toBe(false);
  });
});
