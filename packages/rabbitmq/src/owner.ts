import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ErrorCode, KrakenError } from '@kraken/common';

/** Who the node runs as; undefined ids mean this process's own user. */
export interface NodeOwner {
  uid?: number;
  gid?: number;
}

/**
 * As root the node runs as the `rabbitmq` user (what Debian's own wrapper does): a broker that
 * listens on the network should not run as root. Otherwise it runs as this process's user.
 */
export async function nodeOwner(): Promise<NodeOwner> {
  if (process.getuid?.() !== 0) return {};
  let entry: string;
  try {
    entry = (await promisify(execFile)('getent', ['passwd', 'rabbitmq'])).stdout.trim();
  } catch (error) {
    throw new KrakenError(ErrorCode.Unavailable, 'there is no `rabbitmq` user: install RabbitMQ (apt-get install rabbitmq-server)', { cause: error });
  }
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
