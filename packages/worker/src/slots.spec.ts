import { Slots } from './slots.js';

describe('Slots', () => {
  it('grants up to the limit, then in arrival order as slots are released', async () => {
    const slots = new Slots(1);
    const a = slots.acquire();
    const b = slots.acquire();
    const c = slots.acquire();
    const order: string[] = [];
    void b.ready.then(() => order.push('b'));
    void c.ready.then(() => order.push('c'));
    expect(await a.ready).toBe(true);
    expect(slots.queued).toBe(2);
    a.release();
    a.release(); // twice is harmless
    await b.ready;
    b.release();
    await c.ready;
    expect(order).toEqual(['b', 'c']);
    expect(slots.inUse).toBe(1);
  });

  it('a ticket released while waiting leaves the line and resolves false', async () => {
    const slots = new Slots(1);
    const a = slots.acquire();
    const b = slots.acquire();
    b.release();
    expect(await b.ready).toBe(false);
    a.release();
    expect(slots.inUse).toBe(0);
    expect(slots.queued).toBe(0);
  });

  it('names the holders of its slots, earliest first, and tells a waiting ticket from a held one', async () => {
    const slots = new Slots(2);
    const a = slots.acquire('app-a');
    const b = slots.acquire('app-b');
    const c = slots.acquire('app-c');
    expect([a.waiting, b.waiting, c.waiting]).toEqual([false, false, true]);
    expect(slots.holders).toEqual(['app-a', 'app-b']);
    a.release();
    expect(await c.ready).toBe(true);
    expect(c.waiting).toBe(false);
    expect(slots.holders).toEqual(['app-b', 'app-c']);
  });

  it('says it is idle when the last held slot is given back with nobody in line', async () => {
    let idleCalls = 0;
    const slots = new Slots(1, () => {
      idleCalls++;
    });
    expect(slots.idle).toBe(true);
    const a = slots.acquire();
    const b = slots.acquire();
    expect(slots.idle).toBe(false);
    a.release();
    expect(await b.ready).toBe(true);
    expect(idleCalls).toBe(0);
    b.release();
    b.release();
    expect(idleCalls).toBe(1);
    expect(slots.idle).toBe(true);
  });
});
