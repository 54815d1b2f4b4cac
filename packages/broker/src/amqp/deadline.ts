import type { ChannelModel } from 'amqplib';
import { ErrorCode, KrakenError, settlesWithin } from '@kraken/common';

/**
 * Settles with `work`, or rejects with the signal's reason once the signal aborts. `work` keeps
 * running (only its owner can stop it); its late rejection is swallowed here so it never becomes an
 * unhandled rejection.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** True when the signal fired because its time ran out (AbortSignal.timeout), not because it was aborted. */
export function timedOut(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new KrakenError(ErrorCode.Closed, 'aborted');
}

/**
 * Gives up on a connection at once: destroys its socket with `reason`. amqplib then fails every
 * call waiting on it ("Channel ended") and emits 'close', so nothing keeps waiting for a server
 * that does not answer. (A graceful close() waits for the server's close-ok, which may never come.)
 */
export function abandonConnection(connection: ChannelModel, reason: string): void {
  // amqplib re-emits the socket error; without a listener an 'error' event would throw
  if (connection.listenerCount('error') === 0) connection.on('error', () => undefined);
  const socket = (connection.connection as unknown as { stream?: { destroyed?: boolean; destroy(error?: Error): void } }).stream;
  if (socket !== undefined && socket.destroyed !== true) socket.destroy(new Error(reason));
}

/** Closes gracefully if the server answers within `timeoutMs`, else abandons the connection. */
export async function closeConnectionWithin(connection: ChannelModel, timeoutMs: number): Promise<void> {
  const closed = await settlesWithin(connection.close(), timeoutMs);
  if (!closed) abandonConnection(connection, `no close-ok from RabbitMQ within ${timeoutMs} ms`);
}
