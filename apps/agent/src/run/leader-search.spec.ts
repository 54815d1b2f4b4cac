import { LeaderSearch } from './leader-search.js';

describe('LeaderSearch', () => {
  let now = 0;
  const search = () => new LeaderSearch(45_000, () => now);

  beforeEach(() => {
    now = 1_000_000;
  });

  it('never competes while nothing was lost', () => {
    const looking = search();
    now += 1_000_000;
    expect(looking.competeNext()).toBe(false);
    expect(looking.lookedMs()).toBe(0);
  });

  it('competes once patience is spent, however many starts failed meanwhile (each does not renew it)', () => {
    const looking = search();
    looking.start();
    for (let attempt = 0; attempt < 8; attempt++) {
      now += 5_000;
      looking.failed();
      expect(looking.competeNext()).toBe(false);
    }
    now += 5_000;
    expect(looking.lookedMs()).toBe(45_000);
    expect(looking.competeNext()).toBe(true);
  });

  it('starts counting at the first failed start of a machine that lost nothing yet (restarted while its leader was gone)', () => {
    const looking = search();
    looking.failed();
    now += 44_999;
    looking.failed();
    expect(looking.competeNext()).toBe(false);
    now += 1;
    expect(looking.competeNext()).toBe(true);
  });

  it('alternates joining and competing once patience is spent: a leader may appear meanwhile', () => {
    const looking = search();
    looking.start();
    now += 60_000;
    expect([looking.competeNext(), looking.competeNext(), looking.competeNext(), looking.competeNext()]).toEqual([true, false, true, false]);
  });

  it('renews patience when another holds the lease, and stops looking once the agent runs', () => {
    const looking = search();
    looking.start();
    now += 60_000;
    expect(looking.competeNext()).toBe(true);
    looking.start();
    expect(looking.competeNext()).toBe(false);
    now += 45_000;
    looking.found();
    expect(looking.competeNext()).toBe(false);
    expect(looking.lookedMs()).toBe(0);
  });
});
