import { newestFirst, releaseDuration, releaseResultTag } from './releases.js';
import type { Release } from './api/types.js';

const release = (number: number, endedAt: number | null): Release => ({
  number,
  commit: null,
  trigger: 'redeploy',
  rollbackTarget: false,
  startedAt: 1000,
  endedAt,
  durationMs: endedAt === null ? 0 : (endedAt - 1000) * 1000,
  result: endedAt === null ? 'BUILDING' : 'SUCCEEDED',
  reason: null,
  timeline: [],
});

describe('releases', () => {
  it('shows how long an ended release took, and counts up one still building', () => {
    expect(releaseDuration(release(1, 1042), 5000)).toBe('42s');
    expect(releaseDuration(release(2, 1200), 5000)).toBe('3m 20s');
    expect(releaseDuration(release(3, null), 1065)).toBe('1m 5s so far');
  });

  it('colours a failed release as an error and a superseded one as neutral', () => {
    expect(releaseResultTag('FAILED')).toEqual({ label: 'Failed', color: 'red' });
    expect(releaseResultTag('SUPERSEDED')).toEqual({ label: 'Superseded', color: 'default' });
  });

  it('lists the newest release first', () => {
    expect(newestFirst([release(1, 1001), release(3, null), release(2, 1002)]).map((r) => r.number)).toEqual([3, 2, 1]);
  });
});
