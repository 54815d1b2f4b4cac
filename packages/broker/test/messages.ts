import type { Message } from '@kraken/messages';
import { createMessage } from '@kraken/messages';

/** A valid durable message (deploy.status) whose `message` field carries a marker for assertions. */
export function statusMessage(marker: string, from = 'node-a'): Message {
  return createMessage(
    'deploy.status',
    { deploymentId: 'dep-1', status: 'Running', message: marker, at: new Date().toISOString(), nodeId: from },
    { from },
  );
}

/** A valid telemetry message (deploy.stats). */
export function statsMessage(cpuPercent: number, from = 'node-a'): Message {
  return createMessage('deploy.stats', { deploymentId: 'dep-1', cpuPercent, memMb: 10, maxMemMb: 20, at: new Date().toISOString() }, { from });
}

export function markerOf(message: Message): string {
  if (message.type !== 'deploy.status') throw new Error(`expected deploy.status, got ${message.type}`);
  return message.body.message ?? '';
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A deploy.log batch of `lines` lines of `lineBytes` characters each. */
export function logMessage(lines: number, lineBytes: number, from = 'node-a'): Message {
  const at = new Date().toISOString();
  return createMessage(
    'deploy.log',
    { deploymentId: 'dep-1', seq: 0, lines: Array.from({ length: lines }, () => ({ stream: 'stdout' as const, text: 'x'.repeat(lineBytes), at })) },
    { from },
  );
}
