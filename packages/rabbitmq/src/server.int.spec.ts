import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqplib from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { freePort } from '@kraken/common';
import { RabbitServer } from './server.js';
import { ensureUser, nodePermissions } from './users.js';

// A node of our own with an admin of our own (no guest), and node users that can do what a worker
// does and nothing more: checked against the real broker, which is what enforces them.

const admin = { user: 'kraken-admin', password: randomBytes(12).toString('hex') };

describe('RabbitServer with node users', () => {
  let server: RabbitServer;
  let dir: string;
  const connections: ChannelModel[] = [];
  const connectAs = async (user: string, password: string) => {
    const connection = await amqplib.connect(`amqp://${user}:${password}@127.0.0.1:${server.amqpPort}`);
    connection.on('error', () => undefined);
    connections.push(connection);
    return connection;
  };
  /** An operation on a fresh channel: 'ok' or the broker's refusal. */
  const attempt = async (connection: ChannelModel, operation: (channel: amqplib.ConfirmChannel) => Promise<unknown>) => {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    try {
      await operation(channel);
      return 'ok';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kraken-rabbitmq-'));
    server = await RabbitServer.start({
      dir,
      nodeName: `kraken-rabbitmq-test-${randomBytes(4).toString('hex')}@localhost`,
      amqpPort: await freePort(),
      distPort: await freePort(),
      amqpAddress: '127.0.0.1',
      config: [`default_user = ${admin.user}`, `default_pass = ${admin.password}`, 'default_user_tags.administrator = true'],
      cookie: randomBytes(20).toString('hex'),
      readyUser: admin,
    });
    const setup = await connectAs(admin.user, admin.password);
    const channel = await setup.createChannel();
    for (const queue of ['kraken.orchestrator', 'kraken.node.a', 'kraken.node.b']) await channel.assertQueue(queue, { durable: true });
    await channel.assertExchange('kraken.topics', 'topic', { durable: true });
  }, 120_000);

  afterAll(async () => {
    for (const connection of connections) await connection.close().catch(() => undefined);
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts without a guest user: only the configured admin logs in', async () => {
    await expect(amqplib.connect(`amqp://guest:guest@127.0.0.1:${server.amqpPort}`)).rejects.toThrow(/ACCESS_REFUSED|403/);
    await expect(connectAs(admin.user, admin.password)).resolves.toBeDefined();
  });

  it("lets a node user consume its own queue but not another node's", async () => {
    await ensureUser(server, 'kraken-node-a', 'secret-a', nodePermissions('a'));
    const nodeA = await connectAs('kraken-node-a', 'secret-a');
    expect(await attempt(nodeA, (channel) => channel.consume('kraken.node.a', () => undefined))).toBe('ok');
    expect(await attempt(nodeA, (channel) => channel.consume('kraken.node.b', () => undefined))).toMatch(/ACCESS_REFUSED - access to queue 'kraken.node.b'/);
    expect(await attempt(nodeA, (channel) => channel.deleteQueue('kraken.orchestrator'))).toMatch(/ACCESS_REFUSED/);
    // the cluster's queues: checked, never declared, by a node
    expect(await attempt(nodeA, (channel) => channel.checkQueue('kraken.orchestrator'))).toBe('ok');
  });

  it('lets a node user bind a queue of its own to the topics it was given, and to no other (the leader store changes)', async () => {
    await ensureUser(server, 'kraken-node-t', 'secret-t', nodePermissions('t', ['kraken.leader']));
    const adminConnection = await connectAs(admin.user, admin.password);
    expect(await attempt(adminConnection, (channel) => channel.assertExchange('kraken.topics', 'topic', { durable: true }))).toBe('ok');
    const nodeT = await connectAs('kraken-node-t', 'secret-t');
    const bind = (key: string) => async (channel: amqplib.ConfirmChannel) => {
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, 'kraken.topics', key);
    };
    expect(await attempt(nodeT, bind('kraken.leader'))).toBe('ok');
    expect(await attempt(nodeT, bind('kraken.state.change'))).toMatch(/ACCESS_REFUSED/);
    expect(await attempt(nodeT, bind('#'))).toMatch(/ACCESS_REFUSED/);
  });

  it("publishes as itself, and RabbitMQ refuses a message claiming another user's id", async () => {
    const nodeA = await connectAs('kraken-node-a', 'secret-a');
    const publish = (userId: string) => (channel: amqplib.ConfirmChannel) => {
      channel.sendToQueue('kraken.orchestrator', Buffer.from('{}'), { userId, persistent: true });
      return channel.waitForConfirms();
    };
    expect(await attempt(nodeA, publish('kraken-node-a'))).toBe('ok');
    expect(await attempt(nodeA, publish('kraken-node-b'))).not.toBe('ok');
  });

  it('gives an existing user a new password: the old one stops working', async () => {
    await ensureUser(server, 'kraken-node-a', 'rotated-a', nodePermissions('a'));
    await expect(amqplib.connect(`amqp://kraken-node-a:secret-a@127.0.0.1:${server.amqpPort}`)).rejects.toThrow(/ACCESS_REFUSED|403/);
    await expect(connectAs('kraken-node-a', 'rotated-a')).resolves.toBeDefined();
  });

  it('says what rabbitmqctl printed after its bare "Error:" line, and its exit code', async () => {
    // rabbitmqctl puts a failed command's reason on the lines after a line of its own saying "Error:"
    await expect(server.ctl(['forget_cluster_node', 'kraken-nobody@localhost'])).rejects.toThrow(
      /^rabbitmqctl forget_cluster_node on \S+ failed \(exit code [1-9]\d*: Error: \{:not_a_cluster_node, .+\}\)$/,
    );
  });
});
