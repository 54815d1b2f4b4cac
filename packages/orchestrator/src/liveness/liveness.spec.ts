import { FakeClock } from '../../test/fake-clock.js';
import { nodeInfo } from '../../test/fixtures.js';
import type { NodeTransition } from './liveness.js';
import { Liveness, livenessTimings, stateAfterSilence } from './liveness.js';
import { canRun } from './node-health.js';

describe('liveness timings', () => {
  it('defaults to suspect after 3 missed 2 s beats (6 s) and dead after 10 s', () => {
    expect(livenessTimings()).toEqual({ suspectAfterMs: 6000, deadAfterMs: 10000 });
    expect(livenessTimings({ heartbeatIntervalMs: 500, deadAfterMs: 3000 })).toEqual({ suspectAfterMs: 1500, deadAfterMs: 3000 });
  });

  it('refuses a dead threshold that is not after the suspect one', () => {
    expect(() => livenessTimings({ deadAfterMs: 6000 })).toThrow(
      'deadAfterMs (6000) must be longer than the suspect threshold (6000',
    );
    expect(() => livenessTimings({ heartbeatIntervalMs: 0 })).toThrow('heartbeatIntervalMs must be a positive number, got 0');
  });

  it('maps silence to a state', () => {
    const timings = livenessTimings();
    expect(stateAfterSilence(5999, timings)).toBe('alive');
    expect(stateAfterSilence(6000, timings)).toBe('suspect');
    expect(stateAfterSilence(10000, timings)).toBe('dead');
  });
});

describe('Liveness', () => {
  let clock: FakeClock;
  let liveness: Liveness;
  let events: NodeTransition[];

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

  it('stays alive while heartbeats arrive, even a little late', () => {
    liveness.beat('node-a');
    for (let i = 0; i < 10; i++) {
      clock.advance(5000);
      expect(liveness.check()).toEqual([]);
      liveness.beat('node-a');
    }
    expect(liveness.state('node-a')).toBe('alive');
  });

  it('goes alive -> suspect after 3 missed beats -> dead after 10 s, once each', () => {
    liveness.beat('node-a');
    clock.advance(5999);
    expect(liveness.check()).toEqual([]);
    clock.advance(1);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'alive', to: 'suspect', silentMs: 6000 }]);
    clock.advance(2000);
    expect(liveness.check()).toEqual([]);
    clock.advance(2000);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'suspect', to: 'dead', silentMs: 10000 }]);
    clock.advance(60000);
    expect(liveness.check()).toEqual([]);
    expect(events.map((e) => e.to)).toEqual(['alive', 'suspect', 'dead']);
  });

  it('goes straight to dead when a check comes late', () => {
    liveness.beat('node-a');
    clock.advance(12000);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'alive', to: 'dead', silentMs: 12000 }]);
  });

  it('brings a suspect or dead node back to alive on its next heartbeat', () => {
    liveness.beat('node-a');
    liveness.beat('node-b');
    clock.advance(7000);
    liveness.beat('node-b');
    clock.advance(4000);
    liveness.check();
    expect(liveness.state('node-a')).toBe('dead');
    expect(liveness.state('node-b')).toBe('alive');
    expect(liveness.beat('node-a')).toEqual({ nodeId: 'node-a', from: 'dead', to: 'alive', silentMs: 11000 });
  });

  it('counts the silence of nodes restored after a restart from the restart', () => {
    clock.advance(60000);
    liveness.restore('node-a', 'alive');
    liveness.restore('node-b', 'dead');
    expect(events).toEqual([]);
    clock.advance(9000);
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'alive', to: 'suspect', silentMs: 9000 }]);
    expect(liveness.state('node-b')).toBe('dead');
    expect(liveness.beat('node-b')?.from).toBe('dead');
  });

  it('judges nobody while the orchestrator cannot hear (its broker is down), and counts silence from when it hears again', () => {
    liveness.beat('node-a');
    liveness.beat('node-b');
    clock.advance(4000);
    liveness.deafen();
    clock.advance(30000);
    expect(liveness.check()).toEqual([]);
    expect(liveness.state('node-a')).toBe('alive');
    liveness.hearAgain();
    clock.advance(1000);
    liveness.beat('node-b');
    clock.advance(4999);
    expect(liveness.check()).toEqual([]);
    clock.advance(1);
    // node-a stays silent after the broker is back: judged by its silence since then
    expect(liveness.check()).toEqual([{ nodeId: 'node-a', from: 'alive', to: 'suspect', silentMs: 6000 }]);
    clock.advance(4000);
    expect(liveness.check()).toEqual([
      { nodeId: 'node-a', from: 'suspect', to: 'dead', silentMs: 10000 },
      { nodeId: 'node-b', from: 'alive', to: 'suspect', silentMs: 9000 },
    ]);
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
