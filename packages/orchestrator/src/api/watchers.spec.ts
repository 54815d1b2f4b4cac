import { Watchers } from './watchers.js';

describe('Watchers', () => {
  let now = 0;
  const clock = { now: () => now };

  beforeEach(() => {
    now = 1_000_000;
  });

  it('is watched while a subscription connection is open, and not once every one closed', () => {
    const watchers = new Watchers(clock, 1_000);
    expect(watchers.watched()).toBe(false);
    const closeFirst = watchers.connected();
    const closeSecond = watchers.connected();
    now += 60_000;
    closeFirst();
    closeFirst(); // a second call for the same connection does not count twice
    expect(watchers.watched()).toBe(true);
    closeSecond();
    expect(watchers.watched()).toBe(false);
  });

  it('is watched for a while after an API request', () => {
    const watchers = new Watchers(clock, 1_000);
    watchers.requested();
    now += 999;
    expect(watchers.watched()).toBe(true);
    now += 1;
    expect(watchers.watched()).toBe(false);
  });
});
