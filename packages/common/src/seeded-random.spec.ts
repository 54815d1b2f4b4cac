import { seededRandom } from './seeded-random.js';

describe('seededRandom', () => {
  it('replays the same numbers from the same seed, others from another, all in [0, 1)', () => {
    const take = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 100 }, () => random());
    };
    expect(take(7)).toEqual(take(7));
    expect(take(8)).not.toEqual(take(7));
    expect(take(7).every((n) => n >= 0 && n < 1)).toBe(true);
  });
});
