import { noopLogger } from '@kraken/common';
import { liveConsumerCounter } from './live-consumers.js';

describe('liveConsumerCounter', () => {
  it('answers every queue from one read, reads again only after 5 s, and cannot tell when a read fails', async () => {
    let clock = 0;
    const reads: (Map<string, number> | Error)[] = [
      new Map([
        ['kraken.node.a', 1],
        ['kraken.node.b', 0],
      ]),
      new Error('rabbitmqctl: timed out'),
    ];
    let readCount = 0;
    const count = liveConsumerCounter(
      () => {
        const next = reads[readCount++];
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next ?? new Map<string, number>());
      },
      noopLogger,
      () => clock,
    );

    expect(await Promise.all([count('kraken.node.a'), count('kraken.node.b'), count('kraken.node.c')])).toEqual([1, 0, undefined]);
    clock = 4_999;
    expect(await count('kraken.node.b')).toBe(0);
    expect(readCount).toBe(1);
    clock = 5_000;
    expect(await count('kraken.node.a')).toBeUndefined();
    expect(readCount).toBe(2);
  });
});
