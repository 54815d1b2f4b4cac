import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { ErrorCode, KrakenError, withTimeout } from '@kraken/common';

export const defaultAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';
const connectTimeoutMs = 5_000;

/** The shared test RabbitMQ: `KRAKEN_TEST_AMQP_URL`, else guest/guest on 127.0.0.1:5672. */
export function amqpUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env['KRAKEN_TEST_AMQP_URL'];
  if (url === undefined || url === '') return defaultAmqpUrl;
  if (!/^amqps?:\/\/[^/]/.test(url)) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `KRAKEN_TEST_AMQP_URL must be an amqp:// or amqps:// URL with a host, got ${JSON.stringify(redactUrl(url))}`,
      { details: { field: 'KRAKEN_TEST_AMQP_URL' } },
    );
  }
  return url;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/**
 * One AMQP connection attempt that gives up after `timeoutMs`. A connection that opens after we
 * stopped waiting is closed, so a slow broker never leaves a socket behind.
 */
async function connectWithin(url: string, timeoutMs: number): Promise<ChannelModel> {
  const attempt = connect(url, { timeout: timeoutMs });
  try {
    return await withTimeout(attempt, timeoutMs, () => {
      throw new Error(`no AMQP handshake within ${timeoutMs} ms`);
    });
  } catch (error) {
    attempt.then((late) => late.close(), () => undefined).catch(() => undefined);
    throw error;
  }
}

/**
 * Fails (never skips) when the test RabbitMQ is not there, with the command that starts it.
 * Call it in `beforeAll` of every suite that needs the broker.
 */
export async function requireRabbit(url: string = amqpUrl()): Promise<void> {
  let connection: ChannelModel;
  try {
    connection = await connectWithin(url, connectTimeoutMs);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new KrakenError(
      ErrorCode.Unavailable,
      `RabbitMQ is not reachable at ${redactUrl(url)}: run \`bash tools/services/services.sh up\` (${reason})`,
      { cause: error },
    );
  }
  await connection.close();
}

/** Deletes the named queues (missing ones are fine), e.g. in `afterAll`. */
export async function deleteQueues(url: string, names: Iterable<string>): Promise<void> {
  const connection = await connectWithin(url, connectTimeoutMs);
  const failures: string[] = [];
  try {
    for (const name of names) {
      // a failed delete closes its channel, so each queue gets its own
      const channel = await connection.createChannel();
      try {
        await channel.deleteQueue(name);
        await channel.close();
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await connection.close();
  }
  if (failures.length > 0) {
    throw new KrakenError(ErrorCode.Internal, `deleteQueues failed for ${failures.length} queue(s): ${failures.join('; ')}`, {
      details: { failures },
    });
  }
}
