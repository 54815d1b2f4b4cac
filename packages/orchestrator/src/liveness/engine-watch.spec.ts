import { EngineWatch } from './engine-watch.js';

describe('EngineWatch', () => {
  it('says failed once, after the grace, and recovered once the engine answers again', () => {
    const watch = new EngineWatch(10_000);
    expect(watch.report('pi', true, 0)).toBeUndefined();
    expect(watch.report('pi', false, 1_000)).toBeUndefined();
    expect(watch.report('pi', false, 10_999)).toBeUndefined();
    expect(watch.report('pi', false, 11_000)).toEqual({ kind: 'failed', downSinceMs: 1_000 });
    expect(watch.report('pi', false, 13_000)).toBeUndefined();
    expect(watch.report('pi', true, 15_000)).toEqual({ kind: 'recovered' });
    expect(watch.report('pi', true, 17_000)).toBeUndefined();
  });

  it('lets an engine that returns within the grace keep its apps (a restart, an upgrade)', () => {
    const watch = new EngineWatch(10_000);
    watch.report('pi', false, 0);
    expect(watch.report('pi', true, 5_000)).toBeUndefined();
    // the next outage counts from its own start
    watch.report('pi', false, 6_000);
    expect(watch.report('pi', false, 15_000)).toBeUndefined();
    expect(watch.report('pi', false, 16_000)).toEqual({ kind: 'failed', downSinceMs: 6_000 });
  });

  it('says recovered at the next answer after a deployment moved away because the engine failed its request, however short the outage', () => {
    const watch = new EngineWatch(10_000);
    watch.movedAway('pi', 1_000);
    expect(watch.isDown('pi')).toBe(true);
    expect(watch.report('pi', true, 2_000)).toEqual({ kind: 'recovered' });
    expect(watch.report('pi', true, 4_000)).toBeUndefined();
    // down in the heartbeats as well: the grace still moves the rest, once, and the recovery is said once
    watch.report('pi', false, 6_000);
    watch.movedAway('pi', 7_000);
    expect(watch.report('pi', false, 16_000)).toEqual({ kind: 'failed', downSinceMs: 6_000 });
    expect(watch.report('pi', true, 18_000)).toEqual({ kind: 'recovered' });
    expect(watch.report('pi', true, 20_000)).toBeUndefined();
  });

  it('ignores nodes that have no engine to report on, and forgets a dead node', () => {
    const watch = new EngineWatch(10_000);
    expect(watch.report('laptop', undefined, 0)).toBeUndefined();
    watch.report('pi', false, 0);
    watch.forget('pi');
    expect(watch.report('pi', false, 20_000)).toBeUndefined();
  });
});
