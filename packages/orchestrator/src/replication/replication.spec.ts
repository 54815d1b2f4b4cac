import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MemoryBroker } from '@kraken/broker';
import { DeploymentStatus, LogStream, MessageType, createMessage } from '@kraken/messages';
import { MemoryLogger } from '@kraken/common';
import { eventually, tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { FakeClock } from '../../test/fake-clock.js';
import { nodeInfo } from '../../test/fixtures.js';
import { OrchestratorStore } from '../store/orchestrator-store.js';
import { StateFollower } from './state-follower.js';
import { StatePublisher } from './state-publisher.js';
import { STATE_TOPIC, stateQueueOf } from './topics.js';
import { DataKey } from '../data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

let dir: TempDir;
let broker: MemoryBroker;
let leader: OrchestratorStore;
let publisher: StatePublisher;
const clock = new FakeClock();

beforeEach(async () => {
  dir = await tempDir('kraken-replication-');
  broker = new MemoryBroker();
  leader = OrchestratorStore.open({ dataKey, dataDir: path.join(dir.path, 'leader'), clock });
  publisher = new StatePublisher({ broker, store: leader, nodeId: 'leader', epoch: () => leader.currentEpoch(), logger: new MemoryLogger() });
});

afterEach(async () => {
  await publisher.close();
  leader.close();
  await broker.close();
  await dir.remove();
});

function follow(key = dataKey, logger = new MemoryLogger()): Promise<StateFollower> {
  return StateFollower.start({
    broker,
    queue: stateQueueOf('standby'),
    dataDir: path.join(dir.path, 'standby'),
    dataKey: key,
    fetchSnapshot: async (file) => {
      await leader.backupTo(file);
    },
    logger,
  });
}

function deploy(id: string): void {
  leader.deployments.create({ id, srcUrl: 'https://git.lan/blog.git', branch: 'main' });
  clock.advance(1000);
  leader.deployments.setStatus(id, DeploymentStatus.Running, {}, { nodeId: 'node-a', port: 20000 });
  leader.logs.append(id, [{ stream: LogStream.Stdout, text: `${id} listening`, at: '2025-11-25T12:00:00.000Z' }]);
}

describe('a standby following the leader store through the broker', () => {
  it('starts from a snapshot and then has every change, in order', async () => {
    leader.nodes.upsert(nodeInfo('node-a'));
    deploy('before-1');
    const follower = await follow();
    try {
      expect(follower.seq).toBe(leader.changes.seq);
      deploy('after-1');
      deploy('after-2');
      await publisher.durable();
      await eventually(() => follower.seq === leader.changes.seq, 10_000, 'the standby catching up');
      expect(follower.snapshots).toBe(1);
    } finally {
      await follower.stop();
    }
    using copy = OrchestratorStore.open({ dataKey, dataDir: path.join(dir.path, 'standby'), clock });
    expect(copy.deployments.list()).toEqual(leader.deployments.list());
    expect(copy.deployments.history('after-2')).toEqual(leader.deployments.history('after-2'));
    expect(copy.logs.read('after-2')).toEqual(leader.logs.read('after-2'));
  });

  it('durable() rejects while a change the broker refused has no confirmed change after it, and resolves once one follows', async () => {
    const publish = jest.spyOn(broker, 'publishTopic').mockRejectedValueOnce(new Error('a queue without a majority refused it'));
    leader.nodes.upsert(nodeInfo('refused-node'));
    await publisher.settled();
    await expect(publisher.durable()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('a queue without a majority refused it') as unknown });
    publish.mockRestore();
    // the next confirmed change shows the standbys the gap, and they take a snapshot that has it
    deploy('after');
    await expect(publisher.durable()).resolves.toBeUndefined();
  });

  it('catches up with every change waiting in its queue before catchUp resolves, as a standby does before it leads', async () => {
    const follower = await follow();
    try {
      for (let i = 0; i < 40; i++) deploy(`backlog-${String(i)}`);
      await publisher.durable();
      const lagged = follower.seq < leader.changes.seq;
      await follower.catchUp(10_000, 10);
      expect(follower.seq).toBe(leader.changes.seq);
      // the copy was behind when the writes were confirmed: catchUp is what closed the gap
      expect(lagged).toBe(true);
    } finally {
      await follower.stop();
    }
  });

  it('gives up catching up (Unavailable) when changes keep waiting in its queue past the time allowed, rather than lead with a copy that lags', async () => {
    const follower = await follow();
    try {
      jest.spyOn(broker, 'readyCount').mockResolvedValue(3);
      await expect(follower.catchUp(200, 20)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('3 changes waiting') as unknown });
    } finally {
      await follower.stop();
    }
  });

  it('once it leads, closes its copy and drops what still comes to its queue, so the queue does not grow while it leads', async () => {
    deploy('before-lead');
    const follower = await follow();
    try {
      await follower.catchUp(10_000, 10);
      const copyAt = follower.seq;
      await follower.closeCopy();
      // the copy's file is the leader's now: another store opens it, and the follower leaves it alone
      using copy = OrchestratorStore.open({ dataKey, dataDir: path.join(dir.path, 'standby'), clock });
      expect(copy.changes.seq).toBe(copyAt);
      for (let i = 0; i < 20; i++) deploy(`while-leading-${String(i)}`);
      await publisher.durable();
      await eventually(async () => (await broker.readyCount(stateQueueOf('standby'))) === 0, 10_000, 'the queue drained');
      expect(copy.changes.seq).toBe(copyAt);
    } finally {
      await follower.stop();
    }
  });

  it("keeps the leader's secrets sealed in the copy, opened with the cluster's key only", async () => {
    const tokens = { apiToken: 'api-'.padEnd(43, 'a'), joinToken: 'join-'.padEnd(43, 'j'), clusterId: 'home-lab' };
    leader.keepClusterSecrets(tokens);
    const follower = await follow();
    try {
      leader.deployments.create({ id: 'shop', srcUrl: 'https://ci:pa55word-xyz@git.lan/shop.git', branch: 'main', env: { STRIPE_KEY: 'sk-live-123456' } });
      await eventually(() => follower.seq === leader.changes.seq, 10_000, 'the standby catching up');
      expect(follower.clusterSecrets()).toEqual(tokens);
    } finally {
      await follower.stop();
    }
    const copied = readFileSync(path.join(dir.path, 'standby', 'orchestrator.db')).toString('latin1');
    for (const secret of [tokens.apiToken, tokens.joinToken, 'pa55word-xyz', 'sk-live-123456']) expect(copied).not.toContain(secret);
    using copy = OrchestratorStore.open({ dataKey, dataDir: path.join(dir.path, 'standby'), clock });
    expect(copy.deployments.get('shop')).toMatchObject({ srcUrl: 'https://ci:pa55word-xyz@git.lan/shop.git', env: { STRIPE_KEY: 'sk-live-123456' } });
    copy.close();
    // a standby given another key cannot use the copy, and says why
    await expect(follow(DataKey.generate('a wrong grant'))).rejects.toThrow('do not open with the data key in a wrong grant');
  });

  it('takes a new snapshot when a change went missing', async () => {
    const follower = await follow();
    try {
      deploy('one');
      await eventually(() => follower.seq === leader.changes.seq, 10_000, 'the standby catching up');
      deploy('two');
      await eventually(() => follower.seq === leader.changes.seq, 10_000, 'the standby catching up');
      // a change that does not follow on (as after one that was lost): the copy starts again from a snapshot
      const skipped = createMessage(MessageType.StateChange, { seq: leader.changes.seq + 2, sql: ['SELECT 1'], runs: [[0, []]] }, { from: 'leader' });
      await broker.publishTopic(STATE_TOPIC, skipped);
      await eventually(() => follower.snapshots === 2, 10_000, 'a second snapshot');
      deploy('three');
      await eventually(() => follower.seq === leader.changes.seq, 10_000, 'the standby following on after it');
    } finally {
      await follower.stop();
    }
  });

  it("refuses a change of a former leader's term, even one that would follow on, warning once per former term", async () => {
    const logger = new MemoryLogger();
    const follower = await follow(dataKey, logger);
    try {
      // the leader's own term begins: its bump of the epoch is a change like any other
      leader.nextEpoch();
      leader.nextEpoch();
      await eventually(() => follower.seq === leader.changes.seq, 10_000, 'the standby catching up');
      for (let i = 1; i <= 3; i++) {
        const late = createMessage(MessageType.StateChange, { seq: leader.changes.seq + i, sql: ['SELECT 1'], runs: [[0, []]] }, { from: 'former-leader', epoch: 1 });
        await broker.publishTopic(STATE_TOPIC, late);
      }
      await eventually(() => follower.refused === 3, 10_000, 'the late changes refused');
      const refusals = logger.records.filter((record) => record.message === 'refused a change from a former leader');
      expect(refusals.map((record) => record.level)).toEqual(['warn', 'debug', 'debug']);
      expect(follower.seq).toBe(leader.changes.seq);
      expect(follower.snapshots).toBe(1);
      deploy('after-late');
      await eventually(() => follower.seq === leader.changes.seq, 10_000, 'the standby following the leader on');
    } finally {
      await follower.stop();
    }
  });
});
