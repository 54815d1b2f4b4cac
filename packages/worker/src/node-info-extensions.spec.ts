import { ErrorCode } from '@kraken/common';
import type { KrakenError, Result } from '@kraken/common';
import type { NodeInfoExtensions } from '@kraken/messages';
import { readNodeInfoExtensions } from './node-info-extensions.js';

function failure(result: Result<NodeInfoExtensions, KrakenError>): KrakenError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('readNodeInfoExtensions', () => {
  it('returns what a sync or async provider gives, once checked', async () => {
    expect(await readNodeInfoExtensions(() => ({ 'temperature.celsius': 41.5 }), 100)).toEqual({
      ok: true,
      value: { 'temperature.celsius': 41.5 },
    });
    expect(await readNodeInfoExtensions(() => Promise.resolve({ 'job.ok': true }), 100)).toEqual({
      ok: true,
      value: { 'job.ok': true },
    });
  });

  it('turns a synchronous throw into an error naming the provider, keeping the cause', async () => {
    const cause = new Error('EACCES /sys/class/thermal/thermal_zone0/temp');
    const error = failure(
      await readNodeInfoExtensions(() => {
        throw cause;
      }, 100),
    );
    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.message).toBe('the node.info extensions provider failed: EACCES /sys/class/thermal/thermal_zone0/temp');
    expect(error.cause).toBe(cause);
  });

  it('turns a rejection, even of a non-Error, into an error', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what a careless add-on may do
    const error = failure(await readNodeInfoExtensions(() => Promise.reject('no sensor'), 100));
    expect(error.message).toBe('the node.info extensions provider failed: no sensor');
  });

  it('gives up on a provider that does not answer in time, with a Timeout error', async () => {
    const error = failure(await readNodeInfoExtensions(() => new Promise<never>(() => undefined), 10));
    expect(error.code).toBe(ErrorCode.Timeout);
    expect(error.message).toBe('the node.info extensions provider did not answer within 10 ms');
  });

  it('handles a rejection that arrives after the timeout (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const late = (): Promise<NodeInfoExtensions> =>
        new Promise((_resolve, reject) =>
          setTimeout(() => {
            reject(new Error('late'));
          }, 20),
        );
      expect(failure(await readNodeInfoExtensions(late, 5)).code).toBe(ErrorCode.Timeout);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses values the protocol does not allow with the key in the message', async () => {
    const error = failure(await readNodeInfoExtensions(() => ({ 'Cpu Temp': 40 }), 100));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.message).toMatch(/^extensions\["Cpu Temp"\]: expected an extension key/);
  });
});
