import { settlesWithin, withTimeout } from './timeout.js';

const never = new Promise<never>(() => undefined);

describe('withTimeout', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('settles with the work when it finishes first, and clears its timer', async () => {
    await expect(withTimeout(Promise.resolve('done'), 1000, () => 'late')).resolves.toBe('done');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('passes on the work rejecting first, and clears its timer', async () => {
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, () => 'late')).rejects.toThrow('boom');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('settles with what onTimeout returns when the time runs out first', async () => {
    const raced = withTimeout(never, 50, () => 'timeout' as const);
    await jest.advanceTimersByTimeAsync(50);
    await expect(raced).resolves.toBe('timeout');
  });

  it('rejects with what onTimeout throws when the time runs out first', async () => {
    const raced = withTimeout(never, 50, () => {
      throw new Error('no answer within 50 ms');
    });
    const outcome = expect(raced).rejects.toThrow('no answer within 50 ms');
    await jest.advanceTimersByTimeAsync(50);
    await outcome;
  });

  it('does not leave a late rejection of the work unhandled', async () => {
    let fail: (error: Error) => void = () => undefined;
    const work = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    const raced = withTimeout(work, 10, () => 'timeout');
    await jest.advanceTimersByTimeAsync(10);
    await expect(raced).resolves.toBe('timeout');
    const unhandled = jest.fn();
    process.once('unhandledRejection', unhandled);
    fail(new Error('too late'));
    await jest.advanceTimersByTimeAsync(0);
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });
});

describe('settlesWithin', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('is true for work that resolves or rejects in time', async () => {
    await expect(settlesWithin(Promise.resolve(1), 100)).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error('x')), 100)).resolves.toBe(true);
  });

  it('is false for work still running when the time runs out', async () => {
    const within = settlesWithin(never, 100);
    await jest.advanceTimersByTimeAsync(100);
    await expect(within).resolves.toBe(false);
  });
});
