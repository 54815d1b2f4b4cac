import type Database from 'better-sqlite3';
import type { PendingStop } from './records.js';

function prepare(db: { prepare(sql: string): Database.Statement }) {
  return {
    add: db.prepare('INSERT OR REPLACE INTO pending_stops (deployment_id, node_id, reason, created_at) VALUES (?, ?, ?, ?)'),
    ofNode: db.prepare('SELECT deployment_id, reason FROM pending_stops WHERE node_id = ? ORDER BY created_at, deployment_id'),
    remove: db.prepare('DELETE FROM pending_stops WHERE deployment_id = ? AND node_id = ?'),
    forget: db.prepare('DELETE FROM pending_stops WHERE deployment_id = ?'),
  };
}

/**
 * Deployments moved away from a node that was dead: when it comes back, it is told to stop its
 * copy (with the reason). Part of the orchestrator's store (`store.pendingStops`): its writes go
 * through the store's change log.
 */
export class PendingStops {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(
    db: { prepare(sql: string): Database.Statement },
    private readonly now: () => string,
  ) {
    this.statements = prepare(db);
  }

  add(stop: PendingStop): void {
    this.statements.add.run(stop.deploymentId, stop.nodeId, stop.reason, this.now());
  }

  /** What a node must stop when it comes back, oldest first. */
  of(nodeId: string): PendingStop[] {
    const rows = this.statements.ofNode.all(nodeId) as { deployment_id: string; reason: string }[];
    return rows.map((row) => ({ deploymentId: row.deployment_id, nodeId, reason: row.reason }));
  }

  remove(deploymentId: string, nodeId: string): void {
    this.statements.remove.run(deploymentId, nodeId);
  }

  /** Every pending stop of a deployment that is deleted. */
  forget(deploymentId: string): void {
    this.statements.forget.run(deploymentId);
  }
}
