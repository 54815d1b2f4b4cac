import { deviationsForPhi, HeartbeatIntervals, phiAccrualSettings, phiOf } from './phi-accrual.js';

describe('phiOf', () => {
  it('is -log10 of the normal tail: 0.3 at the mean, about 1.2 one deviation past it, and grows without bound', () => {
    expect(phiOf(0)).toBeCloseTo(0.301, 2);
    expect(phiOf(1)).toBeCloseTo(-Math.log10(0.1587), 1);
    let previous = phiOf(-5);
    for (let y = -4.5; y <= 20; y += 0.5) {
      expect(phiOf(y)).toBeGreaterThan(previous);
      previous = phiOf(y);
    }
    expect(phiOf(20)).toBeGreaterThan(100);
  });

  it('is inverted by deviationsForPhi', () => {
    for (const threshold of [1, 3, 8, 12]) expect(phiOf(deviationsForPhi(threshold))).toBeCloseTo(threshold, 6);
    // the logistic approximation is a little heavier-tailed than the exact normal (5.6)
    expect(deviationsForPhi(8)).toBeCloseTo(5.2, 1);
  });
});

describe('HeartbeatIntervals', () => {
  const settings = phiAccrualSettings({ minStdDevMs: 100, acceptablePauseMs: 500, windowSize: 50 });

  it('starts from the expected interval with a quarter of it as spread', () => {
    const intervals = new HeartbeatIntervals(2000, settings);
    expect(intervals.meanMs).toBe(2000);
    expect(intervals.stdDevMs).toBe(500);
  });

  it('learns a regular node: its loss is noticed soon after one missed beat', () => {
    const intervals = new HeartbeatIntervals(2000, settings);
    for (let beat = 0; beat < 50; beat += 1) intervals.add(beat % 2 === 0 ? 1990 : 2010);
    expect(intervals.meanMs).toBe(2000);
    // the spread is 10 ms, floored at 100
    expect(intervals.stdDevMs).toBe(100);
    expect(intervals.silenceForPhi(8)).toBeCloseTo(2000 + 500 + deviationsForPhi(8) * 100, 6);
    expect(intervals.phi(2000)).toBeLessThan(0.01);
    expect(intervals.phi(intervals.silenceForPhi(8))).toBeCloseTo(8, 6);
  });

  it('learns an irregular link (stalled and bunched heartbeats): the same silence says much less', () => {
    const regular = new HeartbeatIntervals(2000, settings);
    const lossy = new HeartbeatIntervals(2000, settings);
    for (let beat = 0; beat < 50; beat += 1) {
      regular.add(2000);
      lossy.add([2000, 2000, 4000, 0, 2000, 6000, 0, 0, 2000, 2000][beat % 10] ?? 2000);
    }
    expect(lossy.meanMs).toBe(2000);
    expect(lossy.stdDevMs).toBeGreaterThan(1500);
    expect(lossy.phi(6000)).toBeLessThan(3);
    expect(regular.phi(6000)).toBeGreaterThan(30);
    expect(lossy.silenceForPhi(8)).toBeGreaterThan(3 * regular.silenceForPhi(8));
  });

  it('forgets intervals older than its window', () => {
    const intervals = new HeartbeatIntervals(2000, settings);
    for (let beat = 0; beat < 50; beat += 1) intervals.add(8000);
    expect(intervals.meanMs).toBe(8000);
    for (let beat = 0; beat < 50; beat += 1) intervals.add(1000);
    expect(intervals.meanMs).toBe(1000);
    expect(intervals.stdDevMs).toBe(100);
  });
});
