import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqplib from 'amqplib';
import { freePort } from '@kraken/common';
import { clusterStatus, isForgottenByCluster, joinCluster, refoundAlone } from './cluster.js';
import { RabbitServer } from './server.js';
import { ensureUser, nodePermissions } from './users.js';

// Two real nodes on loopback: the survivor of a two-node cluster refounds it alone (what `kraken
// promote` does) and the member it left out refuses to boot with an error we recognise.

const admin = { user: 'kraken-admin', password: randomBytes(12).toString('hex') };
const cookie = randomBytes(20).toString('hex');
const suffix = randomBytes(4).toString('hex');

async function startNode(dir: string, name: string): Promise<RabbitServer> {
  return RabbitServer.start({
    dir,
    nodeName: `kraken-${name}-${suffix}@127.0.0.1`,
    longNames: true,
    amqpPort: await freePort(),
    distPort: await freePort(),
    amqpAddress: '127.0.0.1',
    config: [`default_user = ${admin.user}`, `default_pass = ${admin.password}`, 'default_user_tags.administrator = true'],
    cookie,
    readyUser: admin,
  });
}

describe('refoundAlone', () => {
  let root: string;
  let first: RabbitServer;
  let second: RabbitServer;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'kraken-rabbitmq-cluster-'));
    [first, second] = await Promise.all([startNode(path.join(root, 'a'), 'a'), startNode(path.join(root, 'b'), 'b')]);
    await joinCluster(second, first.nodeName);
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([first.kill(), second.stop()]);
    await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('keeps users, permissions and queues on the survivor, drops the messages and the lost member', async () => {
    const nodeUser = { user: 'kraken-node-w', password: randomBytes(12).toString('hex') };
    await ensureUser(first, nodeUser.user, nodeUser.password, nodePermissions('w'));
    const setup = await amqplib.connect(`amqp://${admin.user}:${admin.password}@127.0.0.1:${first.amqpPort}`);
    const channel = await setup.createConfirmChannel();
    await channel.assertQueue('kraken.node.w', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.assertQueue('kraken.lease', { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true } });
    channel.sendToQueue('kraken.node.w', Buffer.from('held by the lost member'));
    await channel.waitForConfirms();
    await setup.close();
    expect((await clusterStatus(second)).members).toHaveLength(2);

    await first.kill();
    const leftOut = await refoundAlone(second);

    expect(leftOut).toEqual([first.nodeName]);
    expect(await clusterStatus(second)).toEqual({ members: [second.nodeName], running: [second.nodeName] });
    // the node's user logs in with its old password and consumes its own queue: empty now
    const worker = await amqplib.connect(`amqp://${nodeUser.user}:${nodeUser.password}@127.0.0.1:${second.amqpPort}`);
    const workerChannel = await worker.createChannel();
    expect(await workerChannel.checkQueue('kraken.node.w')).toMatchObject({ messageCount: 0 });
    expect(await workerChannel.get('kraken.node.w')).toBe(false);
    await worker.close();
    const queues = await second.ctl(['list_queues', 'name', 'type', '--formatter', 'json']);
    expect(JSON.parse(queues)).toEqual(
      expect.arrayContaining([
        { name: 'kraken.node.w', type: 'quorum' },
        { name: 'kraken.lease', type: 'quorum' },
      ]),
    );
  }, 240_000);

  it('leaves the lost member unable to boot, saying which node disagrees', async () => {
    const failure = await first.launch().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isForgottenByCluster(failure)).toEqual({ by: second.nodeName });
  }, 180_000);
});
