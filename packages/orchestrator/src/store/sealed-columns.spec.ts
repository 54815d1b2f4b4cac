import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode } from '@kraken/common';
import { DeploymentStatus } from '@kraken/messages';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { FakeClock } from '../../test/fake-clock.js';
import { DataKey } from '../data-key.js';
import type { Changeset } from './change-log.js';
import { migrate, migrations } from './migrations.js';
import { OrchestratorStore } from './orchestrator-store.js';
import { joinCredentials, splitCredentials } from './sealed-columns.js';

const dataKey = DataKey.generate('/data/secrets.json');
const SECRET_URL = 'https://kraken-user:pa55word-xyz@git.example/app.git';
const SECRET_ENV = { DATABASE_PASSWORD: 'hunter2-hunter2', PORT: '3000' };
const TOKENS = { apiToken: 'api-token-'.padEnd(43, 'a'), joinToken: 'join-token-'.padEnd(43, 'j'), clusterId: 'home-lab' };
/** What must never be found in the database file in clear. */
const SECRETS = ['pa55word-xyz', 'hunter2-hunter2', TOKENS.apiToken, TOKENS.joinToken];

let dir: TempDir;
let clock: FakeClock;

beforeEach(async () => {
  dir = await tempDir('kraken-sealed-');
  clock = new FakeClock();
});
afterEach(async () => {
  await dir.remove();
});

const open = (name = 'leader', key = dataKey) => OrchestratorStore.open({ dataKey: key, dataDir: path.join(dir.path, name), clock });

/** The database file and its WAL as bytes anyone with the file would read (after a checkpoint, nothing is left in the WAL). */
function rawBytes(store: OrchestratorStore): string {
  const file = store.file;
  return ['', '-wal'].map((suffix) => readFileSync(`${file}${suffix}`, { flag: 'r' }).toString('latin1')).join('');
}

describe('secrets in the store', () => {
  it('keeps env values, git credentials and the tokens sealed on disk, and hands them out in clear', () => {
    const changesets: Changeset[] = [];
    {
      using store = open();
      store.changes.onCommit((changeset) => changesets.push(changeset));
      store.keepClusterSecrets(TOKENS);
      store.deployments.create({ id: 'app-1', srcUrl: SECRET_URL, branch: 'main', env: SECRET_ENV });
      store.deployments.setEnv('app-1', { ...SECRET_ENV, API_KEY: 'sk-live-0123456789' });
      store.deployments.setStatus('app-1', DeploymentStatus.Errored, { message: `git clone ${SECRET_URL} failed` });
      const raw = rawBytes(store);
      for (const secret of [...SECRETS, 'sk-live-0123456789']) expect(raw).not.toContain(secret);
      expect(store.deployments.get('app-1')).toMatchObject({ srcUrl: SECRET_URL, env: { ...SECRET_ENV, API_KEY: 'sk-live-0123456789' } });
      expect(store.deployments.get('app-1')?.statusMessage).toBe('git clone https://kraken-user:***@git.example/app.git failed');
      expect(store.clusterSecrets()).toEqual(TOKENS);
    }
    // what standbys get through the broker is sealed too
    expect(JSON.stringify(changesets)).not.toMatch(/hunter2|pa55word|sk-live/);
    // the URL column says where the code is, without the password
    const db = new Database(path.join(dir.path, 'leader', 'orchestrator.db'), { readonly: true });
    const row = db.prepare('SELECT src_url, src_credentials, env FROM deployments').get() as Record<string, string>;
    db.close();
    expect(row['src_url']).toBe('https://git.example/app.git');
    expect(row['src_credentials']).toMatch(/^enc:v1:/);
    expect(row['env']).toMatch(/^enc:v1:/);
    using again = open();
    expect(again.deployments.get('app-1')?.env['API_KEY']).toBe('sk-live-0123456789');
    expect(again.clusterSecrets()).toEqual(TOKENS);
  });

  it('writes the tokens again only when they change', () => {
    using store = open();
    store.keepClusterSecrets(TOKENS);
    const seq = store.changes.seq;
    store.keepClusterSecrets(TOKENS);
    expect(store.changes.seq).toBe(seq);
    store.keepClusterSecrets({ ...TOKENS, joinToken: 'another-join-token'.padEnd(43, 'x') });
    expect(store.changes.seq).toBe(seq + 1);
  });

  it('refuses to open a database with another key, naming both files, and opens it with the right one', () => {
    {
      using store = open();
      store.keepClusterSecrets(TOKENS);
    }
    const lost = DataKey.generate('/data/new-secrets.json');
    let thrown: unknown;
    try {
      open('leader', lost);
    } catch (error) {
      thrown = error;
    }
    const file = path.join(dir.path, 'leader', 'orchestrator.db');
    expect(thrown).toMatchObject({ code: ErrorCode.InvalidConfig, details: { file, keyFile: '/data/new-secrets.json' } });
    expect((thrown as Error).message).toContain(`the secrets in ${file} do not open with the data key in /data/new-secrets.json`);
    expect((thrown as Error).message).toContain('Restore the secrets file backed up with it');
    using store = open();
    expect(store.clusterSecrets()).toEqual(TOKENS);
  });

  it('tells a wrong key by a sealed env value too, in a store that kept no tokens', () => {
    {
      using store = open();
      store.deployments.create({ id: 'app-1', srcUrl: 'https://git.example/app.git', branch: 'main', env: SECRET_ENV });
    }
    expect(() => open('leader', DataKey.generate('/other/secrets.json'))).toThrow('do not open with the data key in /other/secrets.json');
  });

  it('seals what a store from before sealing holds in clear, by statements a copy runs too', async () => {
    const file = path.join(dir.path, 'leader', 'orchestrator.db');
    open().close();
    // rows as Kraken wrote them before sealing existed
    const db = new Database(file);
    const insert = db.prepare(`INSERT INTO deployments (id, src_url, branch, status, env, created_at, updated_at) VALUES (?, ?, 'main', 'Running', ?, 'then', 'then')`);
    insert.run('old-1', SECRET_URL, JSON.stringify(SECRET_ENV));
    insert.run('old-2', 'git@git.example:app.git', '{}');
    db.prepare(`INSERT INTO settings (key, value) VALUES ('cluster_secrets', ?)`).run(JSON.stringify(TOKENS));
    db.close();

    const store = open();
    // read in clear before sealing: the leader starts as usual
    expect(store.deployments.get('old-1')).toMatchObject({ srcUrl: SECRET_URL, env: SECRET_ENV });
    expect(store.clusterSecrets()).toEqual(TOKENS);
    // a standby's copy, taken before
    const copyFile = path.join(dir.path, 'standby.db');
    await store.backupTo(copyFile);
    using copy = OrchestratorStore.open({ dataKey, file: copyFile, clock });
    const changesets: Changeset[] = [];
    store.changes.onCommit((changeset) => changesets.push(changeset));
    store.keepClusterSecrets(TOKENS);
    expect(store.deployments.sealClearSecrets()).toBe(2);
    expect(store.deployments.sealClearSecrets()).toBe(0); // once
    store.close();
    const raw = readFileSync(file).toString('latin1');
    for (const secret of SECRETS) expect(raw).not.toContain(secret);
    using reopened = open();
    expect(reopened.deployments.get('old-1')).toMatchObject({ srcUrl: SECRET_URL, env: SECRET_ENV });
    expect(reopened.deployments.get('old-2')).toMatchObject({ srcUrl: 'git@git.example:app.git', env: {} });
    expect(reopened.clusterSecrets()).toEqual(TOKENS);

    for (const changeset of changesets) copy.applyChangeset(changeset);
    expect(copy.deployments.get('old-1')).toMatchObject({ srcUrl: SECRET_URL, env: SECRET_ENV });
    expect(copy.clusterSecrets()).toEqual(TOKENS);
    copy.close();
    const copied = readFileSync(copyFile).toString('latin1');
    for (const secret of SECRETS) expect(copied).not.toContain(secret);
  });

  it('adds the credentials column to a database of the schema before it', () => {
    const file = path.join(dir.path, 'v7.db');
    const db = new Database(file);
    migrate(db, migrations.slice(0, 7), file, () => 'then');
    db.prepare(`INSERT INTO deployments (id, src_url, branch, status, env, created_at, updated_at) VALUES ('old-1', ?, 'main', 'Running', '{}', 'then', 'then')`).run(SECRET_URL);
    db.close();
    using store = OrchestratorStore.open({ dataKey, file, clock });
    expect(store.schemaVersion).toBe(migrations.length);
    expect(store.deployments.get('old-1')?.srcUrl).toBe(SECRET_URL);
    expect(store.deployments.sealClearSecrets()).toBe(1);
    expect(store.deployments.get('old-1')?.srcUrl).toBe(SECRET_URL);
  });
});

describe('splitCredentials', () => {
  it.each([
    ['https://user:pw@host/x.git', 'https://host/x.git', 'user:pw'],
    ['https://ghp_token@github.com/o/r.git', 'https://github.com/o/r.git', 'ghp_token'],
    ['ssh://git@host:2222/x.git', 'ssh://host:2222/x.git', 'git'],
    ['https://host/x.git', 'https://host/x.git', null],
    ['git@github.com:o/r.git', 'git@github.com:o/r.git', null],
    ['/srv/git/app.git', '/srv/git/app.git', null],
    ['https://host/path@v1/x.git', 'https://host/path@v1/x.git', null],
  ])('keeps the credentials of %s apart, and puts them back', (url, stored, credentials) => {
    expect(splitCredentials(url)).toEqual({ url: stored, credentials });
    expect(joinCredentials(stored, credentials)).toBe(url);
  });
});
