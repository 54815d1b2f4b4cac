import type Database from 'better-sqlite3';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { ReleaseRecord, ReleaseResult, ReleaseSettlement } from './release-record.js';

interface ReleaseRow {
  deployment_id: string;
  number: number;
  commit_sha: string | null;
  trigger: string;
  started_at: string;
  ended_at: string | null;
  result: string;
  reason: string | null;
}

/**
 * The releases table, in the orchestrator's store. Writes go through the store's change log, so
 * standbys' copies carry them like every other table (and a snapshot holds the table as it is).
 */
export class ReleaseStore {
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly latest: Database.Statement;
  private readonly one: Database.Statement;
  private readonly all: Database.Statement;

  constructor(readonly store: OrchestratorStore) {
    this.insert = store.prepareRecorded(`INSERT INTO releases (deployment_id, number, commit_sha, trigger, started_at, result)
      VALUES (@deployment_id, @number, @commit_sha, @trigger, @started_at, @result)`);
    this.update = store.prepareRecorded(`UPDATE releases SET commit_sha = @commit_sha, ended_at = @ended_at, result = @result, reason = @reason
      WHERE deployment_id = @deployment_id AND number = @number`);
    this.latest = store.prepareRecorded('SELECT * FROM releases WHERE deployment_id = ? ORDER BY number DESC LIMIT 1');
    this.one = store.prepareRecorded('SELECT * FROM releases WHERE deployment_id = ? AND number = ?');
    this.all = store.prepareRecorded('SELECT * FROM releases WHERE deployment_id = ? ORDER BY number');
  }

  add(release: Pick<ReleaseRecord, 'deploymentId' | 'number' | 'commit' | 'trigger' | 'startedAt' | 'result'>): void {
    this.insert.run({
      deployment_id: release.deploymentId,
      number: release.number,
      commit_sha: release.commit,
      trigger: release.trigger,
      started_at: release.startedAt,
      result: release.result,
    });
  }

  change(release: ReleaseRecord, settlement: ReleaseSettlement): ReleaseRecord {
    const changed: ReleaseRecord = { ...release, ...settlement };
    this.update.run({
      deployment_id: changed.deploymentId,
      number: changed.number,
      commit_sha: changed.commit,
      ended_at: changed.endedAt,
      result: changed.result,
      reason: changed.reason,
    });
    return changed;
  }

  latestOf(deploymentId: string): ReleaseRecord | undefined {
    const row = this.latest.get(deploymentId) as ReleaseRow | undefined;
    return row === undefined ? undefined : toRelease(row);
  }

  get(deploymentId: string, number: number): ReleaseRecord | undefined {
    const row = this.one.get(deploymentId, number) as ReleaseRow | undefined;
    return row === undefined ? undefined : toRelease(row);
  }

  list(deploymentId: string): ReleaseRecord[] {
    return (this.all.all(deploymentId) as ReleaseRow[]).map(toRelease);
  }
}

function toRelease(row: ReleaseRow): ReleaseRecord {
  return {
    deploymentId: row.deployment_id,
    number: row.number,
    commit: row.commit_sha,
    trigger: row.trigger,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    result: row.result as ReleaseResult,
    reason: row.reason,
  };
}
