import type { Result } from '@kraken/common';
import { ErrorCode, KrakenError, err, toKrakenError, withTimeout } from '@kraken/common';
import type { NodeInfoExtensions } from '@kraken/messages';
import { parseNodeInfoExtensions } from '@kraken/messages';

/**
 * Extra readings for each node.info heartbeat, from an add-on executor (a temperature, a job's
 * last result). Called once per heartbeat; see `NodeInfoExtensionLimits` for what may be returned.
 */
export type NodeInfoExtensionsProvider = () => NodeInfoExtensions | Promise<NodeInfoExtensions>;

/**
 * Calls the provider and checks what it returns. Never throws or rejects: a provider that throws,
 * hangs past `timeoutMs` or returns values the protocol refuses gives an error to report, so an
 * add-on can cost its own readings but never the heartbeat.
 */
export async function readNodeInfoExtensions(
  provider: NodeInfoExtensionsProvider,
  timeoutMs: number,
): Promise<Result<NodeInfoExtensions, KrakenError>> {
  const timedOut = new KrakenError(ErrorCode.Timeout, `the node.info extensions provider did not answer within ${timeoutMs} ms`);
  try {
    // Promise.resolve().then turns a synchronous throw into a rejection like an async one.
    const value: unknown = await withTimeout(Promise.resolve().then(provider), timeoutMs, () => {
      throw timedOut;
    });
    return parseNodeInfoExtensions(value);
  } catch (error) {
    if (error === timedOut) return err(timedOut);
    const failure = toKrakenError(error);
    return err(new KrakenError(failure.code, `the node.info extensions provider failed: ${failure.message}`, { cause: error }));
  }
}
