import { StopWaiting, eventually, eventuallyPasses } from './eventually.js';

describe('eventually', () => {
  it('returns the first value the probe gives that is not undefined, null or false', async () => {
    let calls = 0;
    await expect(eventually(() => (++calls < 3 ? false : calls), 5_000, 'the third call', 1)).resolves.toBe(3);
  });

  it('fails naming what it waited for and the last error the probe threw', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('not yet');
        },
        20,
        'the answer',
        1,
      ),
    ).rejects.toThrow(/^the answer did not happen within 20 ms: not yet$/);
  });

  it('stops at once on StopWaiting', async () => {
    let calls = 0;
    const probe = () => {
      calls++;
      throw new StopWaiting('the deployment errored');
    };
    await expect(eventually(probe, 5_000, 'Running', 1)).rejects.toThrow('the deployment errored');
    expect(calls).toBe(1);
  });
});

describe('eventuallyPasses', () => {
  it('returns once the assertion passes', async () => {
    let calls = 0;
    await eventuallyPasses(
      () => {
        calls++;
        expect(calls).toBe(3);
      },
      5_000,
      1,
    );
    expect(calls).toBe(3);
  });

  it("fails with the assertion's own last error, so the report shows what expect saw", async () => {
    const failure = await eventuallyPasses(
      () => {
        expect('seen').toBe('wanted');
      },
      20,
      1,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    // expect's own error, with what it compared (the message is coloured when the terminal is)
    expect((failure as { matcherResult?: unknown }).matcherResult).toMatchObject({
      expected: 'wanted',
      actual: 'seen',
      pass: false,
    });
  });
});
