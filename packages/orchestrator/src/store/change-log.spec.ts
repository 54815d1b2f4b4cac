import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode } from '@kraken/common';
import { DeploymentStatus, LogStream } from '@kraken/messages';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { FakeClock } from '../../test/fake-clock.js';
import { nodeInfo } from '../../test/fixtures.js';
import type { Changeset } from './change-log.js';
import { OrchestratorStore } from './orchestrator-store.js';
import { NodeState } from './records.js';
import { DataKey } from '../data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

let dir: TempDir;
let clock: FakeClock;

beforeEach(async () => {
  dir = await tempDir('kraken-change-log-');
  clock = new FakeClock();
});
afterEach(async () => {
  await dir.remove();
});

const open = (name: string) => OrchestratorStore.open({ dataKey, dataDir: path.join(dir.path, name), clock, maxLogLinesPerDeployment: 5 });

/** Every row of every table, as a copy must have them. */
function dump(store: OrchestratorStore): Record<string, unknown[]> {
  const db = new Database(store.file, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    // some tables have no rowid: compare the rows as a sorted list
    return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}"`).all().map((row) => JSON.stringify(row)).sort()]));
  } finally {
    db.close();
  }
}

function lines(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({ stream: LogStream.Stdout, text: `line ${from + i}`, at: '2025-11-25T12:00:00.000Z' }));
}

/** A busy leader: every kind of write the store makes. */
function work(store: OrchestratorStore): void {
  store.nextEpoch();
  store.nodes.upsert(nodeInfo('node-a'));
  store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main', env: { A: '1' } });
  clock.advance(1000);
  store.deployments.setStatus('blog-1', DeploymentStatus.DelegatingDeployment, { message: 'placed' }, { nodeId: 'node-a', port: 20000 });
  store.deployments.setStatus('blog-1', DeploymentStatus.Running, { messageId: '7e4b2c19-d0a3-4e6f-b852-1f9a3c7d5e68' });
  store.logs.append('blog-1', lines(4), { batchSeq: 0 });
  store.logs.append('blog-1', lines(4, 4), { batchSeq: 2, senderDropped: 1 }); // trims to 5, counts a gap
  store.deployments.updateStats('blog-1', { cpuPercent: 1.5, memMb: 40, maxMemMb: 512, at: '2025-11-25T12:00:01.000Z' });
  store.deployments.setWatch('blog-1', true);
  store.nodes.setState('node-a', NodeState.Suspect);
  store.pendingStops.add({ deploymentId: 'blog-1', nodeId: 'node-b', reason: 'moved' });
  store.pendingStops.remove('blog-1', 'node-b');
  store.logs.delete('blog-1');
}

describe('the change log of the orchestrator store', () => {
  it('gives a copy that applies every changeset in order exactly what the leader has', () => {
    using leader = open('leader');
    using copy = open('copy');
    const changesets: Changeset[] = [];
    leader.changes.onCommit((changeset) => changesets.push(changeset));
    work(leader);
    expect(changesets.map((changeset) => changeset.seq)).toEqual(changesets.map((_, i) => i + 1));
    for (const changeset of changesets) expect(copy.applyChangeset(JSON.parse(JSON.stringify(changeset)) as Changeset)).toBe(true);
    expect(dump(copy)).toEqual(dump(leader));
    expect(copy.changes.seq).toBe(leader.changes.seq);
    expect(copy.deployments.get('blog-1')).toEqual(leader.deployments.get('blog-1'));
  });

  it('skips a changeset applied already and refuses one after a gap', () => {
    using leader = open('leader');
    using copy = open('copy');
    const changesets: Changeset[] = [];
    leader.changes.onCommit((changeset) => changesets.push(changeset));
    work(leader);
    const [first, second, third] = changesets;
    if (first === undefined || second === undefined || third === undefined) throw new Error('expected three changesets at least');
    expect(copy.applyChangeset(first)).toBe(true);
    expect(copy.applyChangeset(first)).toBe(false);
    expect(() => copy.applyChangeset(third)).toThrow(expect.objectContaining({ code: ErrorCode.Conflict }) as Error);
    expect(copy.applyChangeset(second)).toBe(true);
  });

  it('records nothing for reads, nor for a write that was rolled back', () => {
    using store = open('leader');
    const changesets: Changeset[] = [];
    store.changes.onCommit((changeset) => changesets.push(changeset));
    store.snapshot(() => store.deployments.list());
    expect(() => store.deployments.setStatus('nope', DeploymentStatus.Running)).toThrow();
    store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
    expect(() => store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' })).toThrow('already exists');
    expect(changesets).toHaveLength(1);
    expect(changesets[0]?.statements.map((s) => s.sql.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'INSERT INTO deployments',
      'INSERT INTO deployment_status_history',
      'INSERT INTO settings',
    ]);
  });
});
