import type { AppReadiness } from '@kraken/messages';
import type { ReadyProbe } from './ready-watch.js';
import { ReadyWatch } from './ready-watch.js';

const T0 = Date.parse('2026-12-07T03:00:00.000Z');
const policy = { intervalMs: 5_000, probeTimeoutMs: 3_000, failuresBeforeUnready: 3 };

interface Change {
  deploymentId: string;
  readiness: AppReadiness;
  message: string;
}

/** A probe the test answers by hand: each call waits until the test settles it. */
class ManualProbe {
  readonly calls: { port: number; settle: (answered: boolean) => void }[] = [];
  readonly probe: ReadyProbe = (port) =>
    new Promise((resolve) => {
      this.calls.push({ port, settle: (answered) => { resolve(answered ? { answered } : { answered, reason: 'connect ECONNREFUSED 127.0.0.1:20001' }); } });
    });

  /** Settles every check started so far (settling one twice changes nothing). */
  settleAll(answered: boolean): void {
    for (const call of this.calls) call.settle(answered);
  }
}

function setup(restarting = new Set<string>()): { watch: ReadyWatch; probe: ManualProbe; changes: Change[]; tick: (answered?: boolean) => Promise<void> } {
  const probe = new ManualProbe();
  const changes: Change[] = [];
  const watch = new ReadyWatch({
    policy,
    clock: { now: () => Date.now() },
    probe: probe.probe,
    isRestarting: (id) => restarting.has(id),
    onChange: (deploymentId, readiness, message) => changes.push({ deploymentId, readiness, message }),
  });
  // one interval passes, and the check it starts is answered (or not) at once
  const tick = async (answered?: boolean): Promise<void> => {
    await jest.advanceTimersByTimeAsync(policy.intervalMs);
    if (answered !== undefined) probe.settleAll(answered);
    await jest.advanceTimersByTimeAsync(0);
  };
  return { watch, probe, changes, tick };
}

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('ReadyWatch', () => {
  it('starts an app ready and says nothing while it answers', async () => {
    const { watch, probe, changes, tick } = setup();
    watch.running('app-1', 20_001);
    expect(watch.readinessOf('app-1')).toEqual({ ready: true, since: '2026-12-07T03:00:00.000Z' });
    await tick(true);
    await tick(true);
    expect(probe.calls.map((call) => call.port)).toEqual([20_001, 20_001]);
    expect(changes).toEqual([]);
    watch.stop();
  });

  it('turns an app unready after failuresBeforeUnready checks in a row without an answer, not before', async () => {
    const { watch, changes, tick } = setup();
    watch.running('app-1', 20_001);
    await tick(true);
    await tick(false);
    await tick(false);
    expect(changes).toEqual([]);
    await tick(false);
    expect(changes).toEqual([
      {
        deploymentId: 'app-1',
        readiness: { ready: false, since: '2026-12-07T03:00:05.000Z', reason: 'not answering on port 20001 for 15 s (3 checks, last: connect ECONNREFUSED 127.0.0.1:20001)' },
        message: 'not answering on port 20001 for 15 s (3 checks, last: connect ECONNREFUSED 127.0.0.1:20001): the ingress sends it nothing until it answers again',
      },
    ]);
    expect(watch.readinessOf('app-1')?.ready).toBe(false);
    // more silence says nothing more
    await tick(false);
    expect(changes).toHaveLength(1);
    watch.stop();
  });

  it('counts only failures in a row: an answer in between starts over', async () => {
    const { watch, changes, tick } = setup();
    watch.running('app-1', 20_001);
    await tick(false);
    await tick(false);
    await tick(true);
    await tick(false);
    await tick(false);
    expect(changes).toEqual([]);
    watch.stop();
  });

  it('makes an unready app ready again on its first answer', async () => {
    const { watch, changes, tick } = setup();
    watch.running('app-1', 20_001);
    for (let i = 0; i < 3; i++) await tick(false);
    await tick(true);
    expect(changes.map((change) => change.readiness.ready)).toEqual([false, true]);
    expect(changes[1]).toEqual({
      deploymentId: 'app-1',
      readiness: { ready: true, since: '2026-12-07T03:00:20.000Z' },
      message: 'answering on port 20001 again after 20 s: the ingress sends it requests again',
    });
    expect(watch.readinessOf('app-1')).toEqual({ ready: true, since: '2026-12-07T03:00:20.000Z' });
    watch.stop();
  });

  it('keeps one check in flight per app: a hung check is not joined by more', async () => {
    const { watch, probe, tick } = setup();
    watch.running('app-1', 20_001);
    watch.running('app-2', 20_002);
    await tick();
    await tick();
    await tick();
    expect(probe.calls.map((call) => call.port)).toEqual([20_001, 20_002]);
    // once the hung check ends, the next interval checks that app again
    probe.calls[0]?.settle(true);
    await tick();
    expect(probe.calls.map((call) => call.port)).toEqual([20_001, 20_002, 20_001]);
    watch.stop();
  });

  it('leaves an app the runtime is restarting to the crash watch', async () => {
    const restarting = new Set(['app-1']);
    const { watch, probe, changes, tick } = setup(restarting);
    watch.running('app-1', 20_001);
    for (let i = 0; i < 5; i++) await tick();
    expect(probe.calls).toEqual([]);
    restarting.clear();
    await tick(false);
    await tick(false);
    // the restarts did not count as silence: two checks are not yet three
    expect(changes).toEqual([]);
    watch.stop();
  });

  it('ignores a check that ends after the app was forgotten or deployed again, and checks nothing after stop', async () => {
    const { watch, probe, changes, tick } = setup();
    watch.running('app-1', 20_001);
    watch.running('app-2', 20_002);
    for (let i = 0; i < 2; i++) await tick(false);
    await tick();
    watch.forget('app-1');
    watch.running('app-2', 20_012);
    for (const call of probe.calls.slice(-2)) call.settle(false);
    await jest.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([]);
    expect(watch.readinessOf('app-1')).toBeUndefined();
    expect(watch.readinessOf('app-2')?.ready).toBe(true);
    watch.stop();
    const checks = probe.calls.length;
    await tick();
    expect(probe.calls).toHaveLength(checks);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not watch an app without a port', async () => {
    const { watch, probe, tick } = setup();
    watch.running('worker-app', undefined);
    await tick();
    expect(probe.calls).toEqual([]);
    expect(watch.readinessOf('worker-app')).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });
});
