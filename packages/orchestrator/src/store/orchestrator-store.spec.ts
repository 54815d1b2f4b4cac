import fs from 'node:fs';
import Database from 'better-sqlite3';
import { MemoryLogger } from '@kraken/common';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { DeploymentStatus, LogStream } from '@kraken/messages';
import { FakeClock } from '../../test/fake-clock.js';
import { nodeInfo } from '../../test/fixtures.js';
import { OrchestratorStore } from './orchestrator-store.js';
import { NodeState } from './records.js';
import type { Migration } from './migrations.js';
import { migrate, migrations } from './migrations.js';
import { DataKey } from '../data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

let dir: TempDir;
let clock: FakeClock;

beforeEach(async () => {
  dir = await tempDir('kraken-store-');
  clock = new FakeClock();
});
afterEach(async () => {
  await dir.remove();
});

function open(options: { maxLogLinesPerDeployment?: number } = {}): OrchestratorStore {
  return OrchestratorStore.open({ dataKey, dataDir: dir.path, clock, ...options });
}

function lines(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({
    stream: LogStream.Stdout,
    text: `line ${from + i}`,
    at: '2025-11-25T12:00:00.000Z',
  }));
}

describe('OrchestratorStore', () => {
  it('uses WAL with synchronous FULL so a commit is on disk before the call returns', () => {
    using store = open();
    store.close();
    const db = new Database(store.file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps the database and its WAL readable by their owner alone (they hold the apps\' environment)', () => {
    using store = open();
    store.deployments.create({ id: 'mode-check', srcUrl: 'https://example.com/a.git', branch: 'main' });
    for (const suffix of ['', '-wal', '-shm']) expect({ suffix, mode: fs.statSync(`${store.file}${suffix}`).mode & 0o777 }).toEqual({ suffix, mode: 0o600 });
  });

  it('moves a damaged database aside, saying where, and starts with an empty one', () => {
    const file = `${dir.path}/orchestrator.db`;
    fs.writeFileSync(file, Buffer.alloc(8192, 'not a database '));
    const logger = new MemoryLogger();
    using store = OrchestratorStore.open({ dataKey, dataDir: dir.path, clock, logger });
    expect(store.deployments.list()).toEqual([]);
    const [moved] = logger.records.filter((record) => record.message.startsWith('the orchestrator database is damaged'));
    expect(moved?.fields).toMatchObject({ file, movedTo: expect.stringMatching(/orchestrator\.db\.damaged-/) as unknown });
    expect(fs.readFileSync(String(moved?.fields['movedTo']), 'utf8')).toMatch(/^not a database /);
  });

  it('leaves orchestrator.db alone holding every commit once closed (the WAL checkpointed into it)', () => {
    const store = open();
    store.deployments.create({ id: 'kept', srcUrl: 'https://example.com/a.git', branch: 'main' });
    // another connection with the file open (a snapshot copy): SQLite folds the WAL in on close
    // only when the closing connection is the last one
    const reader = new Database(store.file, { readonly: true });
    reader.prepare('SELECT count(*) FROM deployments').get();
    store.close();
    const copy = `${dir.path}/copy.db`;
    fs.copyFileSync(store.file, copy);
    reader.close();
    const backup = new Database(copy, { readonly: true });
    expect(backup.prepare('SELECT id FROM deployments').all()).toEqual([{ id: 'kept' }]);
    backup.close();
  });

  it('says so when a directory stands where the database file goes, as a configuration error', () => {
    fs.mkdirSync(`${dir.path}/orchestrator.db`);
    expect(() => open()).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: `orchestrator database ${dir.path}/orchestrator.db is a directory, not a database file: move it aside (the database is created there) or use another data dir`,
      }) as Error,
    );
  });

  it('creates a deployment in DeploymentRequested with its first history entry', () => {
    using store = open();
    const created = store.deployments.create({
      id: 'blog-1',
      srcUrl: 'https://git.lan/blog.git',
      branch: 'main',
      env: { A: '1' },
      watch: true,
    });
    expect(created).toMatchObject({
      id: 'blog-1',
      status: DeploymentStatus.DeploymentRequested,
      env: { A: '1' },
      watch: true,
      attempt: 1,
      nodeId: null,
      createdAt: '2025-11-25T12:00:00.000Z',
    });
    expect(store.deployments.history('blog-1').map((entry) => entry.status)).toEqual([DeploymentStatus.DeploymentRequested]);
  });

  it('refuses a second deployment with the same id', () => {
    using store = open();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    expect(() => store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/x.git', branch: 'main' })).toThrow(
      'deployment blog-1 already exists',
    );
  });

  it('keeps a name to one live deployment, and frees it once that one is destroyed', () => {
    using store = open();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main', name: 'blog' });
    expect(store.deployments.named('blog')).toBe('blog-1');
    expect(() => store.deployments.create({ id: 'blog-2', srcUrl: 'https://git.lan/blog.git', branch: 'main', name: 'blog' })).toThrow(
      'the name blog is taken by deployment blog-1; choose another',
    );
    store.deployments.setStatus('blog-1', DeploymentStatus.Destroyed, {});
    expect(store.deployments.named('blog')).toBeUndefined();
    expect(store.deployments.create({ id: 'blog-2', srcUrl: 'https://git.lan/blog.git', branch: 'main', name: 'blog' }).name).toBe('blog');
  });

  it('leaves a removed deployment out of the lists and frees its name, but keeps it and its log readable by id', () => {
    using store = open();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main', name: 'blog' });
    store.deployments.create({ id: 'shop-1', srcUrl: 'https://git.lan/shop.git', branch: 'main', name: 'shop' });
    store.deployments.setStatus('blog-1', DeploymentStatus.Errored, { message: 'build failed' });
    store.logs.append('blog-1', lines(2));
    clock.advance(1_000);
    const removed = store.deployments.markRemoved('blog-1');
    expect(removed.removedAt).toBe('2025-11-25T12:00:01.000Z');
    // removing again keeps the first time
    clock.advance(1_000);
    expect(store.deployments.markRemoved('blog-1').removedAt).toBe('2025-11-25T12:00:01.000Z');
    expect(store.deployments.list().map((d) => d.id)).toEqual(['shop-1']);
    expect(store.deployments.list({ includeRemoved: true }).map((d) => d.id)).toEqual(['blog-1', 'shop-1']);
    expect(store.deployments.get('blog-1')?.status).toBe(DeploymentStatus.Errored);
    expect(store.logs.read('blog-1').map((line) => line.text)).toEqual(['line 0', 'line 1']);
    // an Errored deployment holds its name until it is removed
    expect(store.deployments.named('blog')).toBeUndefined();
    expect(store.deployments.create({ id: 'blog-2', srcUrl: 'https://git.lan/blog.git', branch: 'main', name: 'blog' }).name).toBe('blog');
  });

  it('deletes removed deployments past the cutoff with their history, log and counters, and keeps the rest', () => {
    const file = `${dir.path}/purge.db`;
    {
      using store = OrchestratorStore.open({ dataKey, file, clock });
      store.deployments.create({ id: 'old-1', srcUrl: 'https://git.lan/old.git', branch: 'main' });
      store.deployments.create({ id: 'new-1', srcUrl: 'https://git.lan/new.git', branch: 'main' });
      store.deployments.create({ id: 'live-1', srcUrl: 'https://git.lan/live.git', branch: 'main' });
      for (const id of ['old-1', 'new-1']) {
        store.deployments.setStatus(id, DeploymentStatus.Destroyed, {});
        store.logs.append(id, lines(3));
      }
      store.deployments.markRemoved('old-1');
      clock.advance(60_000);
      store.deployments.markRemoved('new-1');
      expect(store.deployments.purgeRemoved('2025-11-25T12:00:30.000Z')).toEqual(['old-1']);
      expect(store.deployments.purgeRemoved('2025-11-25T12:00:30.000Z')).toEqual([]);
      expect(store.deployments.get('old-1')).toBeUndefined();
      expect(store.logs.read('old-1')).toEqual([]);
      expect(store.deployments.history('old-1')).toEqual([]);
      expect(store.logs.read('new-1')).toHaveLength(3);
      expect(store.deployments.list({ includeRemoved: true }).map((d) => d.id)).toEqual(['live-1', 'new-1']);
    }
    const db = new Database(file, { readonly: true });
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE deployment_id = 'old-1'`).get() as { n: number }).n;
    expect(['logs', 'log_counters', 'deployment_status_history'].map(count)).toEqual([0, 0, 0]);
    db.close();
  });

  it('keeps every status change in order with its time and the fields it carried', () => {
    using store = open();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    clock.advance(1000);
    store.deployments.setStatus(
      'blog-1',
      DeploymentStatus.DelegatingDeployment,
      { message: 'placed' },
      { nodeId: 'node-a', port: 20000, placementReason: 'only node' },
    );
    store.deployments.setStatus('blog-1', DeploymentStatus.BuildingDeployment, { nodeId: 'node-a', at: '2025-11-25T12:00:02.000Z' });
    const running = store.deployments.setStatus('blog-1', DeploymentStatus.Running, {
      nodeId: 'node-a',
      commit: 'abcdef1',
      url: 'http://node-a:20000/',
    });
    expect(running).toMatchObject({
      status: DeploymentStatus.Running,
      nodeId: 'node-a',
      port: 20000,
      commit: 'abcdef1',
      url: 'http://node-a:20000/',
    });
    expect(store.deployments.history('blog-1')).toEqual([
      { deploymentId: 'blog-1', status: 'DeploymentRequested', message: null, nodeId: null, at: '2025-11-25T12:00:00.000Z', release: 1 },
      { deploymentId: 'blog-1', status: 'DelegatingDeployment', message: 'placed', nodeId: null, at: '2025-11-25T12:00:01.000Z', release: 1 },
      { deploymentId: 'blog-1', status: 'BuildingDeployment', message: null, nodeId: 'node-a', at: '2025-11-25T12:00:02.000Z', release: 1 },
      { deploymentId: 'blog-1', status: 'Running', message: null, nodeId: 'node-a', at: '2025-11-25T12:00:01.000Z', release: 1 },
    ]);
  });

  it('records a status carried by the same broker message only once', () => {
    using store = open();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    const messageId = '7e4b2c19-d0a3-4e6f-b852-1f9a3c7d5e68';
    expect(store.deployments.setStatus('blog-1', DeploymentStatus.Running, { messageId })).toBeDefined();
    expect(store.deployments.setStatus('blog-1', DeploymentStatus.Running, { messageId })).toBeUndefined();
    expect(store.deployments.history('blog-1')).toHaveLength(2);
  });

  it("keeps a running app's restarts across statuses that do not report them and a reopen, and clears them when a new attempt starts", () => {
    const restarts = { count: 2, looping: true, lastExit: { code: 1, at: '2025-11-25T12:00:03.000Z', reason: 'exited with code 1 after 3.0 s' } };
    {
      using store = open();
      store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
      expect(store.deployments.require('blog-1').restarts).toBeNull();
      expect(store.deployments.setStatus('blog-1', DeploymentStatus.Running, { restarts })?.restarts).toEqual(restarts);
      expect(store.deployments.setStatus('blog-1', DeploymentStatus.DestructionRequested)?.restarts).toEqual(restarts);
    }
    using store = open();
    expect(store.deployments.require('blog-1').restarts).toEqual(restarts);
    expect(store.deployments.setStatus('blog-1', DeploymentStatus.UpdateRequested)?.restarts).toBeNull();
  });

  it("keeps a running app's readiness across statuses of the attempt that do not report it and a reopen, and clears it on a new attempt or once the app stops", () => {
    const unready = { ready: false, since: '2025-11-25T12:00:05.000Z', reason: 'not answering on port 20001 for 15 s (3 checks)' };
    {
      using store = open();
      store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
      expect(store.deployments.require('blog-1').readiness).toBeNull();
      expect(store.deployments.setStatus('blog-1', DeploymentStatus.Running, { readiness: unready })?.readiness).toEqual(unready);
      expect(store.deployments.setStatus('blog-1', DeploymentStatus.Running, { message: 'from an older worker' })?.readiness).toEqual(unready);
    }
    using store = open();
    expect(store.deployments.require('blog-1').readiness).toEqual(unready);
    expect(store.deployments.setStatus('blog-1', DeploymentStatus.UpdateRequested)?.readiness).toBeNull();
    store.deployments.setStatus('blog-1', DeploymentStatus.Running, { readiness: unready });
    expect(store.deployments.setStatus('blog-1', DeploymentStatus.DelegatingDeployment)?.readiness).toBeNull();
    store.deployments.setStatus('blog-1', DeploymentStatus.Running, { readiness: unready });
    expect(store.deployments.setStatus('blog-1', DeploymentStatus.Stopped)?.readiness).toBeNull();
  });

  it('reports a status for an unknown deployment as NOT_FOUND', () => {
    using store = open();
    expect(() => store.deployments.setStatus('nope', DeploymentStatus.Running)).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }) as Error,
    );
  });

  it('keeps everything across close and reopen', () => {
    {
      using store = open();
      store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main', env: { PORT: '80' } });
      store.deployments.setStatus('blog-1', DeploymentStatus.Running, {}, { nodeId: 'node-a', port: 20001 });
      store.nodes.upsert({ ...nodeInfo('node-a'), extensions: { 'temperature.celsius': 47.5 } });
      store.logs.append('blog-1', lines(3));
      store.pendingStops.add({ deploymentId: 'blog-1', nodeId: 'node-b', reason: 'moved' });
      expect(store.nextEpoch()).toBe(1);
    }
    using reopened = open();
    expect(reopened.deployments.get('blog-1')).toMatchObject({
      status: 'Running',
      nodeId: 'node-a',
      port: 20001,
      env: { PORT: '80' },
    });
    expect(reopened.deployments.history('blog-1')).toHaveLength(2);
    expect(reopened.nodes.list().map((node) => node.id)).toEqual(['node-a']);
    // with the rest of its last node.info (ram, load): a new leader shows them until the next heartbeat
    expect(reopened.nodes.get('node-a')?.info.extensions).toEqual({ 'temperature.celsius': 47.5 });
    expect(reopened.logs.read('blog-1').map((line) => line.text)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(reopened.pendingStops.of('node-b')).toEqual([{ deploymentId: 'blog-1', nodeId: 'node-b', reason: 'moved' }]);
    expect(reopened.currentEpoch()).toBe(1);
    expect(reopened.nextEpoch()).toBe(2);
  });

  it('records the leader term each status was recorded in', () => {
    {
      using store = open();
      store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
      store.nextEpoch();
      store.deployments.setStatus('blog-1', DeploymentStatus.Running, {}, { nodeId: 'node-a' });
      store.nextEpoch();
      store.deployments.setStatus('blog-1', DeploymentStatus.DestructionRequested, {});
    }
    const db = new Database(`${dir.path}/orchestrator.db`, { readonly: true });
    try {
      expect(db.prepare('SELECT status, epoch FROM deployment_status_history ORDER BY id').all()).toEqual([
        { status: DeploymentStatus.DeploymentRequested, epoch: null },
        { status: DeploymentStatus.Running, epoch: 1 },
        { status: DeploymentStatus.DestructionRequested, epoch: 2 },
      ]);
    } finally {
      db.close();
    }
  });

  it('lists deployments in creation order, optionally by node', () => {
    using store = open();
    for (const id of ['a', 'b', 'c']) {
      store.deployments.create({ id, srcUrl: 'https://git.lan/x.git', branch: 'main' });
      clock.advance(1);
    }
    store.deployments.setStatus('b', DeploymentStatus.DelegatingDeployment, {}, { nodeId: 'node-a' });
    expect(store.deployments.list().map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(store.deployments.list({ nodeId: 'node-a' }).map((d) => d.id)).toEqual(['b']);
  });

  it('upserts nodes keeping their state and priority, and updates stats', () => {
    using store = open();
    store.nodes.upsert({ ...nodeInfo('node-a'), orchestrationPriority: 0 });
    store.nodes.setState('node-a', NodeState.Suspect);
    clock.advance(2000);
    const updated = store.nodes.upsert(nodeInfo('node-a', { freeMb: 100 }));
    expect(updated).toMatchObject({ state: 'suspect', updateTime: '2025-11-25T12:00:02.000Z', orchestrationPriority: null });
    expect(updated.info.ram.freeMb).toBe(100);
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    store.deployments.updateStats('blog-1', { cpuPercent: 12.5, memMb: 64, maxMemMb: 256, imageSizeMb: 140 });
    expect(store.deployments.get('blog-1')).toMatchObject({
      cpuPercent: 12.5,
      memMb: 64,
      maxMemMb: 256,
      imageSizeMb: 140,
      statsAt: '2025-11-25T12:00:02.000Z',
    });
    store.deployments.updateStats('blog-1', { cpuPercent: 1, memMb: 60, maxMemMb: 256, at: '2025-11-25T12:00:09.000Z' });
    expect(store.deployments.get('blog-1')).toMatchObject({ cpuPercent: 1, imageSizeMb: 140, statsAt: '2025-11-25T12:00:09.000Z' });
  });

  it('turns watching on and off, keeping it across a reopen', () => {
    {
      using store = open();
      expect(store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' }).watch).toBe(false);
      clock.advance(1000);
      expect(store.deployments.setWatch('blog-1', true)).toMatchObject({ watch: true, updatedAt: '2025-11-25T12:00:01.000Z' });
      expect(store.deployments.get('blog-1')?.watch).toBe(true);
      expect(() => store.deployments.setWatch('ghost', true)).toThrow('no deployment with id ghost');
    }
    using store = open();
    expect(store.deployments.get('blog-1')?.watch).toBe(true);
    expect(store.deployments.setWatch('blog-1', false).watch).toBe(false);
  });

  describe('logs', () => {
    it('pages with after/limit over per-deployment seqs', () => {
      using store = open();
      store.logs.append('blog-1', lines(5));
      store.logs.append('other', lines(2));
      expect(store.logs.read('blog-1', { after: 2, limit: 2 }).map((l) => [l.seq, l.text])).toEqual([
        [3, 'line 2'],
        [4, 'line 3'],
      ]);
      expect(store.logs.read('other').map((l) => l.seq)).toEqual([1, 2]);
    });

    it('drops the oldest lines beyond the bound and counts them per deployment', () => {
      using store = open({ maxLogLinesPerDeployment: 4 });
      store.logs.append('blog-1', lines(3));
      store.logs.append('blog-1', lines(3, 3));
      store.logs.append('other', lines(2));
      expect(store.logs.read('blog-1').map((l) => l.text)).toEqual(['line 2', 'line 3', 'line 4', 'line 5']);
      expect(store.logs.counters('blog-1')).toEqual({ dropped: 2, senderDropped: 0, batchGaps: 0 });
      expect(store.logs.counters('other').dropped).toBe(0);
    });

    it('counts missing batches and lines the sender dropped', () => {
      using store = open();
      expect(store.logs.append('blog-1', lines(1), { batchSeq: 0 }).newGaps).toBe(0);
      expect(store.logs.append('blog-1', lines(1), { batchSeq: 1, senderDropped: 7 }).newGaps).toBe(0);
      expect(store.logs.append('blog-1', lines(1), { batchSeq: 4 }).newGaps).toBe(2);
      // the sender restarted its numbering: not a loss
      expect(store.logs.append('blog-1', lines(1), { batchSeq: 0 }).newGaps).toBe(0);
      expect(store.logs.counters('blog-1')).toEqual({ dropped: 0, senderDropped: 7, batchGaps: 2 });
    });

    it('deletes a deployment log without reusing its seqs', () => {
      using store = open();
      store.logs.append('blog-1', lines(3));
      expect(store.logs.delete('blog-1')).toBe(3);
      expect(store.logs.read('blog-1')).toEqual([]);
      expect(store.logs.append('blog-1', lines(1)).lines[0]?.seq).toBe(4);
    });
  });
});

describe('migrations', () => {
  it('migrates a fresh database to the newest version and reopens without re-running', () => {
    {
      using store = open();
      expect(store.schemaVersion).toBe(migrations.length);
    }
    using store = open();
    expect(store.schemaVersion).toBe(migrations.length);
    const db = new Database(store.file, { readonly: true });
    const applied = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(applied).toEqual(migrations.map((m) => ({ version: m.version })));
  });

  it('applies only the migrations a database has not seen, in order', () => {
    const first: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE t (a INTEGER)' };
    const second: Migration = { version: 2, name: 'two', sql: 'ALTER TABLE t ADD COLUMN b TEXT' };
    const db = new Database(':memory:');
    expect(migrate(db, [first], 'test.db', () => 'now')).toBe(1);
    expect(migrate(db, [first, second], 'test.db', () => 'now')).toBe(2);
    expect(migrate(db, [first, second], 'test.db', () => 'now')).toBe(2);
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').all('t')).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1, name: 'one' },
      { version: 2, name: 'two' },
    ]);
    db.close();
  });

  it('opens a version-8 database with no readiness for its running deployments (ready until a worker says otherwise)', () => {
    const file = `${dir.path}/v8.db`;
    const db = new Database(file);
    migrate(db, migrations.slice(0, 8), file, () => 'then');
    db.prepare("INSERT INTO deployments (id, src_url, branch, status, created_at, updated_at) VALUES ('run-1', 'u', 'main', 'Running', 'x', 'x')").run();
    db.close();
    using store = OrchestratorStore.open({ dataKey, file, clock });
    expect(store.deployments.get('run-1')).toMatchObject({ status: 'Running', readiness: null });
    const unready = { ready: false, since: '2025-11-25T12:00:05.000Z' };
    expect(store.deployments.setStatus('run-1', DeploymentStatus.Running, { readiness: unready })?.readiness).toEqual(unready);
  });

  it('adds stats_at to a database made by the first schema, keeping its deployments', () => {
    const file = `${dir.path}/v1.db`;
    const db = new Database(file);
    migrate(db, migrations.slice(0, 1), file, () => 'then');
    db.prepare(
      "INSERT INTO deployments (id, src_url, branch, status, created_at, updated_at, cpu_percent) VALUES ('old', 'u', 'main', 'Running', 'x', 'x', 3)",
    ).run();
    db.close();
    using store = OrchestratorStore.open({ dataKey, file, clock });
    expect(store.deployments.get('old')).toMatchObject({ cpuPercent: 3, statsAt: null, status: 'Running' });
  });

  it('names the deployments of a database made before names by their id, where the id is a DNS label', () => {
    const file = `${dir.path}/v3.db`;
    const db = new Database(file);
    migrate(db, migrations.slice(0, 3), file, () => 'then');
    const insert = db.prepare("INSERT INTO deployments (id, src_url, branch, status, created_at, updated_at) VALUES (?, 'u', 'main', 'Running', 'x', 'x')");
    for (const id of ['todo-api-3f9a1c', 'Adopted_X', '-odd']) insert.run(id);
    db.close();
    using store = OrchestratorStore.open({ dataKey, file, clock });
    expect(['todo-api-3f9a1c', 'Adopted_X', '-odd'].map((id) => store.deployments.get(id)?.name)).toEqual(['todo-api-3f9a1c', null, null]);
  });

  it('lets a new deployment take the name of an Errored one removed, on a database made before removal', () => {
    const file = `${dir.path}/v5.db`;
    const db = new Database(file);
    migrate(db, migrations.slice(0, 5), file, () => 'then');
    db.prepare("INSERT INTO deployments (id, src_url, branch, status, name, created_at, updated_at) VALUES ('app-1', 'u', 'main', 'Errored', 'app', 'x', 'x')").run();
    db.close();
    using store = OrchestratorStore.open({ dataKey, file, clock });
    expect(store.deployments.get('app-1')?.removedAt).toBeNull();
    store.deployments.markRemoved('app-1');
    expect(store.deployments.create({ id: 'app-2', srcUrl: 'u', branch: 'main', name: 'app' }).name).toBe('app');
  });

  it('gives every deployment of a version-6 database release 1, holding its history and log', () => {
    const file = `${dir.path}/v6.db`;
    const db = new Database(file);
    migrate(db, migrations.slice(0, 6), file, () => 'then');
    const insert = db.prepare(
      "INSERT INTO deployments (id, src_url, branch, commit_sha, status, status_message, created_at, updated_at) VALUES (?, 'u', 'main', ?, ?, ?, '2025-11-25T10:00:00.000Z', '2025-11-25T11:00:00.000Z')",
    );
    insert.run('ran-1', 'abc1234', 'Destroyed', null);
    insert.run('broke-1', null, 'Errored', 'npm test failed');
    insert.run('busy-1', null, 'BuildingDeployment', null);
    const history = db.prepare("INSERT INTO deployment_status_history (deployment_id, status, at) VALUES (?, ?, ?)");
    history.run('ran-1', 'Running', '2025-11-25T10:05:00.000Z');
    history.run('ran-1', 'Destroyed', '2025-11-25T11:00:00.000Z');
    db.prepare("INSERT INTO logs (deployment_id, seq, stream, text, at) VALUES ('ran-1', 1, 'stdout', 'hello', 'x')").run();
    db.close();

    using store = OrchestratorStore.open({ dataKey, file, clock });
    expect(store.schemaVersion).toBe(migrations.length);
    const all = (id: string) => store.prepareRecorded('SELECT number, commit_sha, trigger, started_at, ended_at, result, reason FROM releases WHERE deployment_id = ?').all(id);
    expect(all('ran-1')).toEqual([
      { number: 1, commit_sha: 'abc1234', trigger: 'recorded before releases', started_at: '2025-11-25T10:00:00.000Z', ended_at: '2025-11-25T10:05:00.000Z', result: 'succeeded', reason: null },
    ]);
    expect(all('broke-1')).toMatchObject([{ result: 'failed', reason: 'npm test failed', ended_at: '2025-11-25T11:00:00.000Z' }]);
    expect(all('busy-1')).toMatchObject([{ result: 'building', ended_at: null }]);
    expect(store.deployments.history('ran-1').map((entry) => entry.release)).toEqual([1, 1]);
    expect(store.logs.read('ran-1', { release: 1 }).map((line) => line.text)).toEqual(['hello']);
    expect(store.currentRelease('ran-1')).toBe(1);
  });

  it('refuses a database from a newer Kraken with a clear error', () => {
    const store = open();
    store.close();
    const db = new Database(store.file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'x')").run();
    db.close();
    expect(() => open()).toThrow(
      `${store.file}: database schema version 99 is newer than this orchestrator supports (up to ${migrations.length}); run a newer Kraken, or point it at another data directory`,
    );
  });

  it('refuses migrations that are not numbered 1, 2, 3...', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [{ version: 2, name: 'skipped one', sql: '' }], 'test.db', () => 'now')).toThrow(
      'versions must be 1, 2, 3... in order',
    );
    db.close();
  });

  it('needs a dataDir or a file', () => {
    expect(() => OrchestratorStore.open({ dataKey })).toThrow('OrchestratorStore.open needs dataDir');
  });
});

describe('OrchestratorStore reads from memory, in step with the database', () => {
  /** What a fresh store on the same file reads: the database itself. */
  function fromDisk(store: OrchestratorStore) {
    using fresh = OrchestratorStore.open({ dataKey, file: store.file, clock });
    return {
      deployments: fresh.deployments.list(),
      histories: [...fresh.deployments.histories()],
      nodes: fresh.nodes.list(),
    };
  }

  function inMemory(store: OrchestratorStore) {
    return { deployments: store.deployments.list(), histories: [...store.deployments.histories()], nodes: store.nodes.list() };
  }

  it('answers what the database holds after every kind of write', () => {
    using store = open();
    store.nodes.upsert(nodeInfo('node-b'));
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    clock.advance(1000);
    store.deployments.create({ id: 'shop-1', srcUrl: 'https://git.lan/shop.git', branch: 'main' });
    store.nodes.upsert(nodeInfo('node-a'));
    store.deployments.setStatus('blog-1', DeploymentStatus.DelegatingDeployment, { nodeId: 'leader' }, { nodeId: 'node-a', port: 20000 });
    store.deployments.setStatus('blog-1', DeploymentStatus.Running, { nodeId: 'node-a', commit: 'abc1234', url: 'http://10.0.0.1:20000' });
    store.deployments.updateStats('blog-1', { cpuPercent: 2, memMb: 50, maxMemMb: 256 });
    store.nodes.setState('node-b', NodeState.Suspect);
    expect(inMemory(store)).toEqual(fromDisk(store));
    expect(store.nodes.list().map((n) => n.id)).toEqual(['node-a', 'node-b']);
    expect(store.deployments.list({ nodeId: 'node-a' }).map((d) => d.id)).toEqual(['blog-1']);
  });

  it('keeps the database order (created, then id) when the clock goes back', () => {
    using store = open();
    store.deployments.list(); // fill the cache first, so the inserts below go through it
    store.deployments.create({ id: 'b-app', srcUrl: 'https://git.lan/b.git', branch: 'main' });
    clock.advance(-60_000);
    store.deployments.create({ id: 'c-app', srcUrl: 'https://git.lan/c.git', branch: 'main' });
    store.deployments.create({ id: 'a-app', srcUrl: 'https://git.lan/a.git', branch: 'main' });
    expect(store.deployments.list().map((d) => d.id)).toEqual(['a-app', 'c-app', 'b-app']);
    expect(inMemory(store)).toEqual(fromDisk(store));
  });

  it('hands out frozen records and replaces them on change, so a record read earlier never changes', () => {
    using store = open();
    const before = store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main', env: { A: '1' } });
    const historyBefore = store.deployments.history('blog-1');
    expect(Object.isFrozen(before) && Object.isFrozen(before.env) && Object.isFrozen(historyBefore)).toBe(true);
    expect(() => {
      (before as { status: string }).status = 'Running';
    }).toThrow(TypeError);

    const after = store.deployments.setStatus('blog-1', DeploymentStatus.DelegatingDeployment);
    expect(after).not.toBe(before);
    expect(before.status).toBe(DeploymentStatus.DeploymentRequested);
    expect(historyBefore).toHaveLength(1);
    expect(store.deployments.history('blog-1')).toHaveLength(2);
    expect(store.deployments.get('blog-1')).toBe(after);
  });

  it('forgets writes a failed snapshot rolled back', () => {
    using store = open();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    expect(() =>
      store.snapshot(() => {
        store.deployments.setStatus('blog-1', DeploymentStatus.DelegatingDeployment);
        store.deployments.create({ id: 'shop-1', srcUrl: 'https://git.lan/shop.git', branch: 'main' });
        throw new Error('changed my mind');
      }),
    ).toThrow('changed my mind');
    expect(store.deployments.get('blog-1')?.status).toBe(DeploymentStatus.DeploymentRequested);
    expect(store.deployments.get('shop-1')).toBeUndefined();
    expect(store.deployments.history('blog-1')).toHaveLength(1);
    expect(inMemory(store)).toEqual(fromDisk(store));
  });

  it('gives the histories of many deployments at once, an empty list for an unknown id', () => {
    using store = open();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    store.deployments.create({ id: 'shop-1', srcUrl: 'https://git.lan/shop.git', branch: 'main' });
    store.deployments.setStatus('shop-1', DeploymentStatus.DelegatingDeployment);
    const histories = store.deployments.histories(['shop-1', 'ghost']);
    expect([...histories.keys()]).toEqual(['shop-1', 'ghost']);
    expect(histories.get('shop-1')?.map((h) => h.status)).toEqual([
      DeploymentStatus.DeploymentRequested,
      DeploymentStatus.DelegatingDeployment,
    ]);
    expect(histories.get('ghost')).toEqual([]);
    expect([...store.deployments.histories().keys()]).toEqual(['blog-1', 'shop-1']);
  });
});
