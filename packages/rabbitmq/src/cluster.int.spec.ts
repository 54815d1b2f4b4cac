import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqplib from 'amqplib';
import { freePort } from '@kraken/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterStatus, isForgottenByCluster, joinCluster, liveConsumerCounts, refoundAlone } from './cluster.js';
import { RabbitServer } from './server.js';
import { ensureUser, nodePermissions } from './users.js';

// Two real nodes on loopback: the survivor of a two-node cluster refounds it alone (what `kraken
// promote` does) and the member it left out refuses to boot with an error we recognise.

const admin = { user: 'kraken-admin', password: randomBytes(12).toString('hex') };
const cookie = randomBytes(20).toString('hex');
const suffix = randomBytes(4).toString('hex');

async function startNode(dir: string, name: string, advancedConfig?: string): Promise<RabbitServer> {
  return RabbitServer.start({
    ...(advancedConfig === undefined ? {} : { advancedConfig }),
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

// Three nodes, a consumer connected through the third, which then stops answering (SIGSTOP: what a
// machine that lost power looks like to the others). The quorum queue keeps the consumer, as
// suspected down: AMQP's count still says 1, rabbitmqctl's drops to 0.
describe('liveConsumerCounts', () => {
  let root: string;
  let nodes: RabbitServer[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'kraken-rabbitmq-live-'));
    // the agent's own setting: a lost member is noticed in about 12 s instead of 60-75 s
    nodes = await Promise.all(['x', 'y', 'z'].map((name) => startNode(path.join(root, name), name, '[{kernel, [{net_ticktime, 10}]}].')));
    const [seed, ...others] = nodes;
    for (const node of others) await joinCluster(node, seed?.nodeName ?? '');
  }, 300_000);

  afterAll(async () => {
    for (const node of nodes) node.resume();
    await Promise.allSettled(nodes.map((node) => node.kill()));
    await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('leaves out the consumers of a member the others lost, which AMQP still counts', async () => {
    const [watcher, , lost] = nodes;
    if (watcher === undefined || lost === undefined) throw new Error('three nodes expected');
    const url = (node: RabbitServer) => `amqp://${admin.user}:${admin.password}@127.0.0.1:${node.amqpPort}`;
    // the worker's side: its queue declared and consumed through its own member, as an agent does
    const worker = await amqplib.connect(url(lost));
    const channel = await worker.createChannel();
    await channel.assertQueue('kraken.node.lost', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.consume('kraken.node.lost', () => undefined);
    worker.on('error', () => undefined);
    const leader = await amqplib.connect(url(watcher));
    leader.on('error', () => undefined);
    const ask = await leader.createChannel();
    const amqpCount = async () => (await ask.checkQueue('kraken.node.lost')).consumerCount;
    const liveCount = async () => (await liveConsumerCounts(watcher)).get('kraken.node.lost');
    let lastError: unknown;
    const liveCountOrNothing = () =>
      liveCount().catch((error: unknown) => {
        lastError = error;
        return undefined;
      });
    // the queue's tick publishes its count every few seconds
    const counted = Date.now() + 90_000;
    while ((await liveCountOrNothing()) !== 1) {
      if (Date.now() > counted) throw new Error(`rabbitmqctl never counted the consumer (${String(lastError)})`);
      await sleep(1_000);
    }
    expect(await amqpCount()).toBe(1);

    lost.pause();
    const paused = Date.now();
    // net_ticktime 10 s: the others declare it down after 10-15 s, the queue's next tick follows
    let live: number | undefined = 1;
    while (live !== 0) {
      if (Date.now() - paused > 120_000) throw new Error(`rabbitmqctl still counted the lost member's consumer after 120 s (${String(lastError)})`);
      await sleep(2_000);
      live = await liveCountOrNothing();
    }
    process.stderr.write(`[liveConsumerCounts] the lost member's consumer left rabbitmqctl's count ${String(Date.now() - paused)} ms after the pause\n`);
    // the same moment, AMQP's answer: the consumer is still there
    expect(await amqpCount()).toBe(1);
    await leader.close();
  }, 400_000);
});
