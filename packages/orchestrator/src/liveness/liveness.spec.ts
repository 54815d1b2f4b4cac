import { FakeClock } from '../../test/fake-clock.js';
import { nodeInfo } from '../../test/fixtures.js';
import type { NodeTransition } from './liveness.js';
import { Liveness, livenessTimings, stateAfterSilence } from './liveness.js';
import { HeartbeatIntervals } from './phi-accrual.js';
import { canRun } from './node-health.js';

describe('liveness timings', () => {
  it('defaults to 2 s beats, phi 3 suspect and 8 dead, capped at 6 s suspect and 30 s dead', () => {
    expect(livenessTimings()).toEqual({
      heartbeatIntervalMs: 2000,
      suspectAfterMs: 6000,
      deadAfterMs: 30000,
      stoppedGraceMs: 60000,
      pulseGraceMs: 4000,
      suspectPhi: 3,
      deadPhi: 8,
      detector: { windowSize: 200, minStdDevMs: 200, acceptablePauseMs: 1000 },
    });
    expect(livenessTimings({ heartbeatIntervalMs: 500, deadAfterMs: 3000 })).toMatchObject({ suspectAfterMs: 1500, deadAfterMs: 3000 });
  });

  it('refuses bounds and thresholds out of order or out of range', () => {
    expect(() => livenessTimings({ deadAfterMs: 6000 })).toThrow('deadAfterMs (6000) must be longer than the suspect threshold (6000');
    expect(() => livenessTimings({ heartbeatIntervalMs: 0 })).toThrow('heartbeatIntervalMs must be a positive number, got 0');
    expect(() => livenessTimings({ deadPhi: 2 })).toThrow('deadPhi (2) must be above suspectPhi (3)');
    expect(() => livenessTimings({ acceptablePauseMs: -1 })).toThrow('acceptablePauseMs must be zero or more, got -1');
  });

  it('maps a silence to a state by the node\'s intervals, within the fixed bounds', () => {
    const timings = livenessTimings();
    const steady = new HeartbeatIntervals(2000, timings.detector);
    for (let beat = 0; beat < 100; beat += 1) steady.add(2000);
    // dead once the silence passes mean + pause + ~5.2 floored deviations: about 4 s
    expect(stateAfterSilence(2500, steady, timings)).toBe('alive');
    expect(stateAfterSilence(3700, steady, timings)).toBe('suspect');
    expect(stateAfterSilence(4100, steady, timings)).toBe('dead');
    const lossy = new HeartbeatIntervals(2000, timings.detector);
    for (let beat = 0; beat < 100; beat += 1) lossy.add([0, 2000, 4000, 2000, 6000, 0, 0, 2000][beat % 8] ?? 2000);
    expect(stateAfterSilence(4100, lossy, timings)).toBe('alive');
    expect(stateAfterSilence(7000, lossy, timings)).toBe('suspect');
    // the bound caps what a very irregular link earns
    expect(stateAfterSilence(30000, lossy, livenessTimings({ acceptablePauseMs: 60000 }))).toBe('dead');
  });
});

describe('Liveness', () => {
  let clock: FakeClock;
  let liveness: Liveness;
  let events: NodeTransition[];

  /** `count` heartbeats from `nodeId`, `everyMs` apart; the clock ends at the last one. */
  const beats = (nodeId: string, count: number, everyMs: number | readonly number[] = 2000) => {
    for (let beat = 0; beat < count; beat += 1) {
      clock.advance(typeof everyMs === 'number' ? everyMs : (everyMs[beat % everyMs.length] ?? 2000));
      liveness.beat(nodeId);
    }
  };

  beforeEach(() => {
    clock = new FakeClock();
    liveness = new Liveness(clock);
    events = [];
    liveness.on('transition', (t) => events.push(t));
  });

  it('reports a node heard from for the first time as alive', () => {
    expect(liveness.beat('node-a')).toEqual({ nodeId: 'node-a', from: undefined, to: 'alive', silentMs: 0 });
    expect(liveness.beat('node-a')).toBeUndefined();
    expect(events).toHaveLength(1);
  });

  it('stays alive while heartbeats arrive on time, and checks in between find nothing', () => {
    liveness.beat('node-a');
    for (let i = 0; i < 50; i++) {
      clock.advance(1000);
      expect(liveness.check()).toEqual([]);
      clock.advance(1000);
      liveness.beat('node-a');
    }
    expect(liveness.state('node-a')).toBe('alive');
  });

  it('declares a steady node dead about 4 s into its silence, and says what it learned', () => {
    liveness.beat('node-a');
    beats('node-a', 50);
    expect(liveness.detection('node-a')).toEqual({ intervalMs: 2000, jitterMs: 200, phi: 0, noticeLossAfterMs: 4045, stopping: false, lastPulseMsAgo: undefined, reachable: false });
    const seen: string[] = [];
    for (let waited = 0; waited < 6000; waited += 100) {
      clock.advance(100);
      for (const transition of liveness.check()) seen.push(`${transition.to} after ${transition.silentMs}`);
    }
    expect(seen).toEqual(['suspect after 3700', 'dead after 4100']);
    expect(events.map((e) => e.to)).toEqual(['alive', 'suspect', 'dead']);
  });

  it('learns patience from a lossy link: stalled and bunched heartbeats are not a death', () => {
    liveness.beat('node-a');
    const lossy = [2000, 0, 4000, 2000, 2000, 6000, 0, 0, 2000, 2000];
    beats('node-a', 60, lossy);
    const learned = liveness.detection('node-a');
    expect(learned?.jitterMs).toBeGreaterThan(1500);
    expect(learned?.noticeLossAfterMs).toBeGreaterThan(10000);
    for (let round = 0; round < 5; round += 1) {
      clock.advance(7000);
      expect(liveness.check().filter((t) => t.to === 'dead')).toEqual([]);
      liveness.beat('node-a');
    }
    clock.advance(30000);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'alive', to: 'dead', silentMs: 30000 }]);
  });

  it('keeps a silent node that is still connected to the broker suspect, up to the fixed bound', () => {
    liveness.beat('node-a');
    liveness.beat('node-b');
    for (let beat = 0; beat < 20; beat += 1) {
      clock.advance(2000);
      liveness.beat('node-a');
      liveness.beat('node-b');
    }
    clock.advance(5000);
    expect(liveness.deathCandidates()).toEqual(['node-a', 'node-b']);
    liveness.setBrokerAnswer('node-a', 'connected');
    liveness.setBrokerAnswer('node-b', 'gone');
    expect(liveness.check().map((t) => `${t.nodeId} ${t.to}`)).toEqual(['node-a suspect', 'node-b dead']);
    expect(liveness.deathCandidates()).toEqual(['node-a']);
    clock.advance(24_999);
    expect(liveness.check()).toEqual([]);
    clock.advance(1);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'suspect', to: 'dead', silentMs: 30000 }]);
  });

  it('never declares dead a node whose pulses arrive, even past the fixed bound, but keeps it suspect', () => {
    liveness.beat('node-a');
    beats('node-a', 20);
    // its broker connection dropped (a stalled lossy link): no heartbeat, the broker says gone, but pulses arrive
    const seen: string[] = [];
    for (let waited = 0; waited < 60_000; waited += 500) {
      clock.advance(500);
      // one pulse in three lost
      if (waited % 1500 !== 0) expect(liveness.pulse('node-a')).toBe(true);
      expect(liveness.deathCandidates()).toEqual([]);
      liveness.setBrokerAnswer('node-a', 'gone');
      for (const transition of liveness.check()) seen.push(`${transition.to} after ${transition.silentMs}`);
    }
    expect(seen).toEqual(['suspect after 4000']);
    expect(liveness.detection('node-a')).toMatchObject({ lastPulseMsAgo: 0, reachable: true });
    // the pulses stop too (the machine died): dead once they are stale
    clock.advance(3999);
    expect(liveness.check()).toEqual([]);
    clock.advance(1);
    expect(liveness.check().map((t) => t.to)).toEqual(['dead']);
  });

  it('declares a node whose pulses stopped dead by phi, although the broker still holds its connection (its power is gone)', () => {
    liveness.beat('node-a');
    for (let beat = 0; beat < 20; beat += 1) {
      clock.advance(1000);
      liveness.pulse('node-a');
      clock.advance(1000);
      liveness.pulse('node-a');
      liveness.beat('node-a');
    }
    // heartbeats and pulses stop at once; TCP has not timed out, so RabbitMQ still holds the connection
    clock.advance(4500);
    expect(liveness.deathCandidates()).toEqual(['node-a']);
    liveness.setBrokerAnswer('node-a', 'connected');
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'alive', to: 'dead', silentMs: 4500 }]);
  });

  it('takes no pulse from a node it does not track or has declared dead: only a heartbeat brings one back', () => {
    expect(liveness.pulse('node-x')).toBe(false);
    expect(liveness.state('node-x')).toBeUndefined();
    liveness.beat('node-a');
    beats('node-a', 20);
    clock.advance(31_000);
    expect(liveness.check().map((t) => t.to)).toEqual(['dead']);
    expect(liveness.pulse('node-a')).toBe(false);
    expect(liveness.check()).toEqual([]);
    expect(liveness.state('node-a')).toBe('dead');
  });

  it('gives no reprieve to a node that said it stops, whatever its pulses', () => {
    liveness.beat('node-a');
    beats('node-a', 20);
    liveness.beat('node-a', { stopping: true });
    for (let waited = 0; waited < 60_000; waited += 1000) {
      clock.advance(1000);
      liveness.pulse('node-a');
    }
    expect(liveness.check().map((t) => t.to)).toEqual(['dead']);
  });

  it('waits for the fixed bound when the broker could not say whether a silent node is connected', () => {
    liveness.beat('node-a');
    beats('node-a', 20);
    clock.advance(5000);
    expect(liveness.deathCandidates()).toEqual(['node-a']);
    liveness.setBrokerAnswer('node-a', 'no answer');
    expect(liveness.check().map((t) => t.to)).toEqual(['suspect']);
    clock.advance(25_000);
    expect(liveness.check().map((t) => t.to)).toEqual(['dead']);
  });

  it('judges a node by the silence at the instant the broker was asked about the others', () => {
    liveness.beat('node-a');
    beats('node-a', 20);
    clock.advance(3900);
    const askedAt = clock.now();
    expect(liveness.deathCandidates(askedAt)).toEqual([]);
    // the question about other nodes took a while: node-a's silence became improbable meanwhile
    clock.advance(2000);
    expect(liveness.check(askedAt).filter((t) => t.to === 'dead')).toEqual([]);
    expect(liveness.deathCandidates()).toEqual(['node-a']);
  });

  it('forgets what the broker said of a node at its next heartbeat', () => {
    liveness.beat('node-a');
    beats('node-a', 20);
    clock.advance(5000);
    liveness.setBrokerAnswer('node-a', 'connected');
    expect(liveness.check().map((t) => t.to)).toEqual(['suspect']);
    liveness.beat('node-a');
    // (it learned that 5 s interval, so it is given a little longer now)
    clock.advance(7000);
    expect(liveness.check().map((t) => t.to)).toEqual(['dead']);
  });

  it('gives a node whose agent said it stops (an update, a restart) a minute before its apps move', () => {
    liveness.beat('node-a');
    beats('node-a', 20);
    expect(liveness.beat('node-a', { stopping: true })).toEqual({ nodeId: 'node-a', from: 'alive', to: 'suspect', silentMs: 0 });
    expect(liveness.detection('node-a')).toMatchObject({ stopping: true, noticeLossAfterMs: 60000 });
    clock.advance(30_000);
    expect(liveness.deathCandidates()).toEqual([]);
    expect(liveness.check()).toEqual([]);
    // back after its restart: alive, and the long gap is not taken for its rhythm
    expect(liveness.beat('node-a')?.to).toBe('alive');
    expect(liveness.detection('node-a')).toMatchObject({ stopping: false, intervalMs: 2000 });
    liveness.beat('node-a', { stopping: true });
    clock.advance(59_999);
    expect(liveness.check()).toEqual([]);
    clock.advance(1);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'suspect', to: 'dead', silentMs: 60000 }]);
  });

  it('goes straight to dead when a check comes late', () => {
    liveness.beat('node-a');
    clock.advance(31000);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'alive', to: 'dead', silentMs: 31000 }]);
  });

  it('brings a suspect or dead node back to alive on its next heartbeat, without learning its absence', () => {
    liveness.beat('node-a');
    liveness.beat('node-b');
    beats('node-a', 10);
    clock.advance(20000);
    liveness.check();
    expect(liveness.state('node-a')).toBe('dead');
    expect(liveness.beat('node-a')).toEqual({ nodeId: 'node-a', from: 'dead', to: 'alive', silentMs: 20000 });
    expect(liveness.detection('node-a')?.intervalMs).toBe(2000);
    expect(liveness.state('node-b')).toBe('dead');
  });

  it('counts the silence of nodes restored after a restart from the restart', () => {
    clock.advance(60000);
    liveness.restore('node-a', 'alive');
    liveness.restore('node-b', 'dead');
    expect(events).toEqual([]);
    clock.advance(3000);
    expect(liveness.check()).toEqual([]);
    clock.advance(2000);
    // a restored node has no learned intervals: judged against the expected 2 s beat and its spread
    expect(liveness.check().map((t) => t.to)).toEqual(['suspect']);
    expect(liveness.state('node-b')).toBe('dead');
    expect(liveness.beat('node-b')?.from).toBe('dead');
  });

  it('judges nobody while the orchestrator cannot hear (its broker is down), and counts silence from when it hears again', () => {
    for (let beat = 0; beat < 20; beat += 1) {
      liveness.beat('node-a');
      liveness.beat('node-b');
      clock.advance(2000);
    }
    liveness.deafen();
    clock.advance(60000);
    expect(liveness.check()).toEqual([]);
    expect(liveness.state('node-a')).toBe('alive');
    liveness.hearAgain();
    clock.advance(1000);
    liveness.beat('node-b');
    // the first beat after hearing again is not an interval: node-b learned nothing from the outage
    expect(liveness.detection('node-b')?.noticeLossAfterMs).toBeLessThan(6000);
    clock.advance(2700);
    // node-a stays silent after the broker is back: judged by its silence since then
    expect(liveness.check().map((t) => `${t.nodeId} ${t.to}`)).toEqual(['node-a suspect']);
    clock.advance(500);
    expect(liveness.check().map((t) => `${t.nodeId} ${t.to}`)).toEqual(['node-a dead']);
  });
});

describe('canRun', () => {
  it('needs the runtime, and for docker an engine that answers', () => {
    expect(canRun(nodeInfo('a'), 'docker')).toBe(true);
    expect(canRun(nodeInfo('a'), 'process')).toBe(false);
    expect(canRun(nodeInfo('a', { dockerHealthy: false }), 'docker')).toBe(false);
    expect(canRun(nodeInfo('a', { dockerHealthy: false, runtimes: ['docker', 'process'] }), 'process')).toBe(true);
  });
});
