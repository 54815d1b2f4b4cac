import { Recent } from './recent.js';

describe('Recent', () => {
  it('gives a value back while it is young, and forgets it once older than maxAgeMs', () => {
    let now = 0;
    const recent = new Recent<number>(1_000, () => now);
    recent.set('a', 1);
    now = 1_000;
    expect(recent.get('a')).toBe(1);
    now = 1_001;
    expect(recent.get('a')).toBeUndefined();
  });

  it('drops every old key when another is kept, so keys nobody asks about again do not pile up', () => {
    let now = 0;
    const recent = new Recent<string>(1_000, () => now);
    for (const key of ['a', 'b', 'c']) recent.set(key, key);
    now = 5_000;
    recent.set('d', 'd');
    expect(recent.size).toBe(1);
  });
});
