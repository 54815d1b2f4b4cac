import { ErrorCode, KrakenError } from '@kraken/common';
import { timedOut, untilAborted } from './deadline.js';

describe('untilAborted', () => {
  it('settles with the work when it finishes first', async () => {
    await expect(untilAborted(Promise.resolve('done'), new AbortController().signal)).resolves.toBe('done');
    await expect(untilAborted(Promise.reject(new Error('refused')), new AbortController().signal)).rejects.toThrow('refused');
  });

  it("rejects with the signal's reason when it aborts first, and swallows the work's late rejection", async () => {
    const controller = new AbortController();
    let failLate!: (error: Error) => void;
    const work = new Promise<string>((_resolve, reject) => {
      failLate = reject;
    });
    const raced = untilAborted(work, controller.signal);
    controller.abort(new KrakenError(ErrorCode.Closed, 'closing'));
    await expect(raced).rejects.toMatchObject({ code: ErrorCode.Closed, message: 'closing' });
    failLate(new Error('too late')); // must not surface as an unhandled rejection
  });

  it('tells a timeout from an abort', async () => {
    const timeout = AbortSignal.timeout(1);
    await expect(untilAborted(new Promise(() => undefined), timeout)).rejects.toThrow();
    expect(timedOut(timeout)).toBe(true);
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    expect(timedOut(aborted.signal)).toBe(false);
  });
});
