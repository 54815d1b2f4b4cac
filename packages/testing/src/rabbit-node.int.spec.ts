import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import type { KrakenError } from '@kraken/common';
import { ErrorCode } from '@kraken/common';
import { requireRabbit } from './amqp.js';
import { uniqueName } from './names.js';
import type { RabbitNode } from './rabbit-node.js';
import { startRabbitNode } from './rabbit-node.js';

/** Pids of processes whose command line mentions `pattern` (pgrep exits 1 when there are none). */
async function pgrep(pattern: string): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)('pgrep', ['-f', pattern]);
    return stdout.trim().split('\n').filter(Boolean);
  } catch (error) {
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  process.stderr.write(`[rabbit-node timing] ${label}: ${Date.now() - started} ms\n`);
  return result;
}

describe('startRabbitNode when the node cannot start', () => {
  it("fails with RabbitMQ's own first error and leaves nothing behind", async () => {
    const error = (await startRabbitNode({ config: ['no_such_setting = 1'] }).catch((e: unknown) => e)) as KrakenError;
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toMatch(/exited \(\d+\) before it was ready/);
    expect(error.message).toMatch(/tried to set no_such_setting, but there is no setting with that name/);
    const nodeName = /RabbitMQ node (\S+) on port/.exec(error.message)?.[1];
    expect(nodeName).toMatch(/^kraken-test-/);
    expect(await pgrep(nodeName!)).toEqual([]);
    const dir = error.details?.['dir'];
    expect(typeof dir).toBe('string');
    expect(existsSync(dir as string)).toBe(false);
  });
});

describe('startRabbitNode', () => {
  let node: RabbitNode;

  beforeAll(async () => {
    node = await timed('start', () => startRabbitNode());
  });

  afterAll(async () => {
    await node[Symbol.asyncDispose]();
  });

  it('serves AMQP on its own port, beside the shared broker', async () => {
    expect(node.url).toBe(`amqp://guest:guest@127.0.0.1:${node.port}`);
    expect(node.port).not.toBe(5672);
    expect(node.nodeName).toMatch(/^kraken-test-[0-9a-f]{8}@localhost$/);
    await expect(requireRabbit(node.url)).resolves.toBeUndefined();
    expect(await pgrep(node.nodeName)).not.toEqual([]);
  });

  it('keeps a durable queue and its confirmed persistent message across kill -9 and restart', async () => {
    const queue = uniqueName('testing.survivor');
    const before = await connect(node.url);
    before.on('error', () => undefined); // the kill below drops this connection on purpose
    const channel = await before.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    channel.sendToQueue(queue, Buffer.from('still here'), { persistent: true, messageId: 'm-1' });
    await channel.waitForConfirms();
    await timed('flush', () => node.flush());

    await timed('kill', () => node.kill());
    expect(node.running).toBe(false);
    expect(await pgrep(node.nodeName)).toEqual([]);
    await expect(requireRabbit(node.url)).rejects.toThrow(/not reachable/);

    await timed('restart after kill', () => node.restart());
    expect(node.running).toBe(true);
    const after = await connect(node.url);
    try {
      const reader = await after.createChannel();
      const message = await reader.get(queue, { noAck: true });
      expect(message === false ? null : message.content.toString()).toBe('still here');
      expect(message === false ? null : message.properties.messageId).toBe('m-1');
    } finally {
      await after.close();
    }
  });

  it('stops gracefully and comes back with its data on restart', async () => {
    const queue = uniqueName('testing.graceful');
    const admin = await connect(node.url);
    const channel = await admin.createChannel();
    await channel.assertQueue(queue, { durable: true });
    await admin.close();

    await timed('graceful stop', () => node.stop());
    expect(node.running).toBe(false);
    expect(await pgrep(node.nodeName)).toEqual([]);

    await timed('restart after stop', () => node.restart());
    const again = await connect(node.url);
    try {
      const check = await again.createChannel();
      await expect(check.checkQueue(queue)).resolves.toMatchObject({ queue });
    } finally {
      await again.close();
    }
  });

  it('leaves no process and no files behind once disposed', async () => {
    let nodeName = '';
    let dir = '';
    {
      await using extra = await startRabbitNode();
      ({ nodeName, dir } = extra);
      expect(await pgrep(nodeName)).not.toEqual([]);
    }
    expect(await pgrep(nodeName)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
