import type Database from 'better-sqlite3';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { NodeInfoBody } from '@kraken/messages';
import type { ReadCache } from './read-cache.js';
import type { NodeRecord, NodeState } from './records.js';
import { NodeState as NodeStates } from './records.js';

interface NodeRow {
  id: string;
  info: string;
  update_time: string;
  state: string;
  orchestration_priority: number | null;
}

function prepare(db: { prepare(sql: string): Database.Statement }) {
  return {
    upsert: db.prepare(`INSERT INTO nodes (id, info, update_time, state, orchestration_priority)
      VALUES (@id, @info, @update_time, @state, @orchestration_priority)
      ON CONFLICT (id) DO UPDATE SET info = excluded.info, update_time = excluded.update_time, state = excluded.state,
        orchestration_priority = excluded.orchestration_priority`),
    setState: db.prepare('UPDATE nodes SET state = ? WHERE id = ?'),
    get: db.prepare('SELECT * FROM nodes WHERE id = ?'),
    list: db.prepare('SELECT * FROM nodes ORDER BY id'),
  };
}

/**
 * The nodes the orchestrator knows: each one's last node.info and its state. Part of the
 * orchestrator's store (`store.nodes`): its writes go through the store's change log, and reads
 * come from the store's read cache.
 */
export class NodeTable {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(
    db: { prepare(sql: string): Database.Statement },
    private readonly cache: Pick<ReadCache, 'getNode' | 'listNodes' | 'putNode'>,
    private readonly now: () => string,
  ) {
    this.statements = prepare(db);
  }

  /** Records a node.info; a new node starts alive, a known one keeps its state unless `state` is given. */
  upsert(info: NodeInfoBody, state?: NodeState): NodeRecord {
    const existing = this.get(info.nodeId);
    this.statements.upsert.run({
      id: info.nodeId,
      info: JSON.stringify(info),
      update_time: this.now(),
      state: state ?? existing?.state ?? NodeStates.Alive,
      orchestration_priority: info.orchestrationPriority ?? null,
    });
    return this.reload(info.nodeId);
  }

  setState(id: string, state: NodeState): NodeRecord {
    this.statements.setState.run(state, id);
    return this.reload(id);
  }

  get(id: string): NodeRecord | undefined {
    return this.cache.getNode(id);
  }

  list(): NodeRecord[] {
    return this.cache.listNodes();
  }

  /** Every node as the database holds it, for the read cache's first load. */
  readAll(): NodeRecord[] {
    return (this.statements.list.all() as NodeRow[]).map(toNode);
  }

  /** Reads a node back after a write and hands the committed row to the cache. */
  private reload(id: string): NodeRecord {
    const row = this.statements.get.get(id) as NodeRow | undefined;
    if (row === undefined) throw new KrakenError(ErrorCode.NotFound, `no node with id ${id}`, { nodeId: id });
    return this.cache.putNode(toNode(row));
  }
}

function toNode(row: NodeRow): NodeRecord {
  return {
    id: row.id,
    info: JSON.parse(row.info) as NodeInfoBody,
    updateTime: row.update_time,
    state: row.state as NodeState,
    orchestrationPriority: row.orchestration_priority,
  };
}
