import { ErrorCode } from '@kraken/common';
import { DeploymentStatus, LogStream, redeployFailedMessage } from '@kraken/messages';
import { FakeClock } from '../../test/fake-clock.js';
import { OrchestratorStore } from '../store/orchestrator-store.js';
import { ReleaseResult, releaseDurationMs, settle } from './release-record.js';
import type { ReleaseRecord } from './release-record.js';
import { Releases } from './releases.js';
import { DataKey } from '../data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

let clock: FakeClock;
let store: OrchestratorStore;
let releases: Releases;

beforeEach(() => {
  clock = new FakeClock();
  store = OrchestratorStore.open({ dataKey, file: ':memory:', clock });
  releases = new Releases(store, clock);
  store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
});
afterEach(() => {
  store.close();
});

/** Sets a status the way the orchestrator does, then lets the releases follow it. */
function reach(status: DeploymentStatus, change: { message?: string; commit?: string } = {}, patch: { commit?: null } = {}): void {
  clock.advance(1000);
  const changed = store.deployments.setStatus('blog-1', status, change, patch);
  if (changed !== undefined) releases.follow(changed);
}

function log(text: string): void {
  store.logs.append('blog-1', [{ stream: LogStream.Stdout, text, at: '2025-11-25T12:00:00.000Z' }]);
}

describe('Releases', () => {
  it('numbers the releases of each deployment 1, 2, 3', () => {
    store.deployments.create({ id: 'shop-1', srcUrl: 'https://git.lan/shop.git', branch: 'main' });
    expect(releases.startRelease('blog-1', null, 'deploy by API').number).toBe(1);
    expect(releases.startRelease('shop-1', null, 'deploy by API').number).toBe(1);
    expect(releases.startRelease('blog-1', 'abc1234', 'redeploy').number).toBe(2);
    expect(releases.startRelease('blog-1', null, 'settings changed').number).toBe(3);
    expect(releases.list('blog-1').map((r) => [r.number, r.trigger, r.commit])).toEqual([
      [1, 'deploy by API', null],
      [2, 'redeploy', 'abc1234'],
      [3, 'settings changed', null],
    ]);
    expect(releases.list('shop-1')).toHaveLength(1);
  });

  it('settles a release as succeeded when it runs, with the commit the worker reported and how long it took', () => {
    releases.startRelease('blog-1', null, 'deploy by API');
    reach(DeploymentStatus.BuildingDeployment);
    expect(releases.require('blog-1', 1)).toMatchObject({ result: ReleaseResult.Building, endedAt: null });
    reach(DeploymentStatus.Running, { commit: 'abc1234' });
    const release = releases.require('blog-1', 1);
    expect(release).toMatchObject({ result: ReleaseResult.Succeeded, commit: 'abc1234', endedAt: '2025-11-25T12:00:02.000Z' });
    expect(releaseDurationMs(release, clock.now() + 60_000)).toBe(2000);
  });

  it('records why a release failed', () => {
    releases.startRelease('blog-1', null, 'deploy by API');
    reach(DeploymentStatus.Errored, { message: 'npm test failed: 1 failing' });
    expect(releases.require('blog-1', 1)).toMatchObject({ result: ReleaseResult.Failed, reason: 'npm test failed: 1 failing' });
  });

  it('fails a redeploy that the node reports Running only because the previous version kept serving', () => {
    releases.startRelease('blog-1', null, 'deploy by API');
    reach(DeploymentStatus.Running, { commit: 'abc1234' });
    releases.startRelease('blog-1', null, 'redeploy');
    // as the orchestrator does: the branch head is resolved again by the node
    reach(DeploymentStatus.UpdateRequested, {}, { commit: null });
    const message = redeployFailedMessage('shipwreck.toml: line 3: unterminated table', 'the previous version (abc1234)');
    reach(DeploymentStatus.Running, { message, commit: 'abc1234' });
    expect(releases.list('blog-1').map((r) => [r.result, r.reason, r.commit])).toEqual([
      [ReleaseResult.Succeeded, null, 'abc1234'],
      // the commit reported is the previous release's, not the one that failed to build
      [ReleaseResult.Failed, message, null],
    ]);
  });

  it('supersedes a release still building when the next one starts, and keeps one that succeeded', () => {
    releases.startRelease('blog-1', null, 'deploy by API');
    reach(DeploymentStatus.Running);
    releases.startRelease('blog-1', null, 'redeploy');
    reach(DeploymentStatus.BuildingDeployment);
    releases.startRelease('blog-1', null, 'new commit on branch (watch)');
    expect(releases.list('blog-1').map((r) => [r.result, r.reason])).toEqual([
      [ReleaseResult.Succeeded, null],
      [ReleaseResult.Superseded, 'superseded by release 3 (new commit on branch (watch))'],
      [ReleaseResult.Building, null],
    ]);
  });

  it('keeps the result of a release that ran when the app later moves or crashes', () => {
    releases.startRelease('blog-1', null, 'deploy by API');
    reach(DeploymentStatus.Running);
    reach(DeploymentStatus.DelegatingDeployment, { message: 'node-a died; placed on node-b' });
    reach(DeploymentStatus.Errored, { message: 'crash loop' });
    expect(releases.list('blog-1')).toHaveLength(1);
    expect(releases.require('blog-1', 1)).toMatchObject({ result: ReleaseResult.Succeeded, reason: null });
    expect(releases.timeline(releases.require('blog-1', 1)).map((e) => e.status)).toEqual([
      DeploymentStatus.DeploymentRequested,
      DeploymentStatus.Running,
      DeploymentStatus.DelegatingDeployment,
      DeploymentStatus.Errored,
    ]);
  });

  it('cancels a release whose deployment is destroyed before it runs', () => {
    releases.startRelease('blog-1', null, 'deploy by API');
    reach(DeploymentStatus.Destroyed);
    expect(releases.require('blog-1', 1).result).toBe(ReleaseResult.Cancelled);
  });

  it('gives each release its own timeline and log lines', () => {
    releases.startRelease('blog-1', null, 'deploy by API');
    reach(DeploymentStatus.BuildingDeployment);
    log('first build');
    reach(DeploymentStatus.Running);
    releases.startRelease('blog-1', null, 'redeploy');
    reach(DeploymentStatus.UpdateRequested);
    log('second build');
    reach(DeploymentStatus.Running);
    const [first, second] = releases.list('blog-1') as [ReleaseRecord, ReleaseRecord];
    expect(releases.timeline(first).map((e) => e.status)).toEqual([
      DeploymentStatus.DeploymentRequested,
      DeploymentStatus.BuildingDeployment,
      DeploymentStatus.Running,
    ]);
    expect(releases.timeline(second).map((e) => e.status)).toEqual([DeploymentStatus.UpdateRequested, DeploymentStatus.Running]);
    expect(store.logs.read('blog-1', { release: 1 }).map((l) => l.text)).toEqual(['first build']);
    expect(store.logs.read('blog-1', { release: 2 }).map((l) => l.text)).toEqual(['second build']);
    expect(store.logs.read('blog-1').map((l) => [l.text, l.release])).toEqual([
      ['first build', 1],
      ['second build', 2],
    ]);
  });

  it('refuses an empty trigger, and names what is missing', () => {
    expect(() => releases.startRelease('blog-1', null, '  ')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, message: expect.stringMatching(/^trigger: /) as unknown }) as Error);
    expect(() => releases.startRelease('nope-1', null, 'redeploy')).toThrow(expect.objectContaining({ code: ErrorCode.NotFound }) as Error);
    releases.startRelease('blog-1', null, 'deploy by API');
    expect(() => releases.require('blog-1', 7)).toThrow('deployment blog-1 has no release 7');
  });

  it('records its writes for standbys, so a copy of the store holds the same releases', () => {
    const copy = OrchestratorStore.open({ dataKey, file: ':memory:', clock });
    try {
      store.changes.onCommit((changeset) => copy.applyChangeset(changeset));
      // the copy starts from the same state and change number (a standby starts from a snapshot)
      copy.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main' });
      releases.startRelease('blog-1', null, 'deploy by API');
      reach(DeploymentStatus.Running, { commit: 'abc1234' });
      expect(new Releases(copy, clock).list('blog-1')).toEqual(releases.list('blog-1'));
    } finally {
      copy.close();
    }
  });
});

describe('settle', () => {
  const building: ReleaseRecord = {
    deploymentId: 'blog-1',
    number: 1,
    commit: null,
    trigger: 'deploy by API',
    startedAt: '2025-11-25T12:00:00.000Z',
    endedAt: null,
    result: ReleaseResult.Building,
    reason: null,
  };

  it('changes nothing for a status on the way', () => {
    expect(settle(building, { status: DeploymentStatus.TestingDeployment, statusMessage: null, commit: null }, 'now')).toBeUndefined();
  });

  it('only fills in the commit of a release that already ended', () => {
    const ended = { ...building, result: ReleaseResult.Succeeded, endedAt: 'then' };
    expect(settle(ended, { status: DeploymentStatus.Errored, statusMessage: 'boom', commit: 'abc1234' }, 'now')).toEqual({ commit: 'abc1234' });
  });
});
