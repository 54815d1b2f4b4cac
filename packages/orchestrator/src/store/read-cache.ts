import type { DeploymentRecord, NodeRecord, StatusHistoryEntry } from './records.js';

/** How the cache fills itself from the database, one query per kind, on first use. */
export interface CacheLoaders {
  /** Every deployment, ordered by (createdAt, id). */
  deployments(): DeploymentRecord[];
  /** Every history entry, grouped by deployment, oldest first within each. */
  histories(): StatusHistoryEntry[];
  /** Every node, ordered by id. */
  nodes(): NodeRecord[];
}

const NO_HISTORY: readonly StatusHistoryEntry[] = Object.freeze([]);

/**
 * The store's read side: deployments, their status histories and nodes, in memory.
 *
 * The orchestrator is the only writer of its database and reads far more than it writes (every
 * API query lists everything; a status changes a few times per deploy). Reading 1,000 deployment
 * rows and 8,000 history rows per `getDeployments` cost tens of milliseconds; from here it is a
 * Map walk. The store writes SQLite first and updates the cache only after the transaction
 * committed, so the cache never shows what the database does not hold.
 *
 * Everything handed out is frozen: callers share the objects, and a change replaces them (which
 * also lets views be memoised by identity).
 */
export class ReadCache {
  private deployments: Map<string, DeploymentRecord> | undefined;
  private lastDeployment: DeploymentRecord | undefined;
  private histories: Map<string, readonly StatusHistoryEntry[]> | undefined;
  private nodes: Map<string, NodeRecord> | undefined;

  constructor(private readonly load: CacheLoaders) {}

  getDeployment(id: string): DeploymentRecord | undefined {
    return this.deploymentMap().get(id);
  }

  /** Oldest first (createdAt, then id), as the database orders them. */
  listDeployments(): DeploymentRecord[] {
    return [...this.deploymentMap().values()];
  }

  /** Stores a new or changed deployment (as just read back from the database). */
  putDeployment(record: DeploymentRecord): DeploymentRecord {
    const frozen = freezeDeployment(record);
    const map = this.deployments;
    if (map === undefined) return frozen; // loaded on first read, with this row in it
    const last = this.lastDeployment;
    if (map.has(frozen.id)) {
      // createdAt and id never change, so neither does its place
      map.set(frozen.id, frozen);
      if (last?.id === frozen.id) this.lastDeployment = frozen;
    } else if (last === undefined || compareDeployments(last, frozen) <= 0) {
      map.set(frozen.id, frozen);
      this.lastDeployment = frozen;
    } else {
      // created with an earlier time than the newest one (the clock went back): keep the order
      this.setDeployments([...map.values(), frozen].sort(compareDeployments));
    }
    return frozen;
  }

  historyOf(id: string): readonly StatusHistoryEntry[] {
    return this.historyMap().get(id) ?? NO_HISTORY;
  }

  /** Adds a committed history entry; the deployment's list is replaced, never changed in place. */
  appendHistory(entry: StatusHistoryEntry): void {
    const map = this.histories;
    if (map === undefined) return;
    map.set(entry.deploymentId, Object.freeze([...(map.get(entry.deploymentId) ?? NO_HISTORY), Object.freeze(entry)]));
  }

  getNode(id: string): NodeRecord | undefined {
    return this.nodeMap().get(id);
  }

  /** Ordered by id. */
  listNodes(): NodeRecord[] {
    return [...this.nodeMap().values()];
  }

  putNode(record: NodeRecord): NodeRecord {
    const frozen = freezeNode(record);
    const map = this.nodes;
    if (map === undefined) return frozen;
    if (map.has(frozen.id)) map.set(frozen.id, frozen);
    else this.nodes = new Map([...map.values(), frozen].sort((a, b) => compareText(a.id, b.id)).map((n) => [n.id, n]));
    return frozen;
  }

  /** Forgets everything; the next read loads from the database again (after a rolled-back transaction). */
  clear(): void {
    this.deployments = undefined;
    this.lastDeployment = undefined;
    this.histories = undefined;
    this.nodes = undefined;
  }

  private deploymentMap(): Map<string, DeploymentRecord> {
    return this.deployments ?? this.setDeployments(this.load.deployments().map(freezeDeployment));
  }

  private setDeployments(ordered: DeploymentRecord[]): Map<string, DeploymentRecord> {
    this.deployments = new Map(ordered.map((d) => [d.id, d]));
    this.lastDeployment = ordered.at(-1);
    return this.deployments;
  }

  private historyMap(): Map<string, readonly StatusHistoryEntry[]> {
    if (this.histories !== undefined) return this.histories;
    const grouped = new Map<string, StatusHistoryEntry[]>();
    for (const entry of this.load.histories()) {
      const list = grouped.get(entry.deploymentId);
      if (list === undefined) grouped.set(entry.deploymentId, [Object.freeze(entry)]);
      else list.push(Object.freeze(entry));
    }
    this.histories = new Map([...grouped].map(([id, list]) => [id, Object.freeze(list)]));
    return this.histories;
  }

  private nodeMap(): Map<string, NodeRecord> {
    this.nodes ??= new Map(this.load.nodes().map((n) => [n.id, freezeNode(n)]));
    return this.nodes;
  }
}

// SQLite compares TEXT bytewise; for the ASCII ids and ISO times used here, so does `<`.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareDeployments(a: DeploymentRecord, b: DeploymentRecord): number {
  return compareText(a.createdAt, b.createdAt) || compareText(a.id, b.id);
}

function freezeDeployment(record: DeploymentRecord): DeploymentRecord {
  Object.freeze(record.env);
  return Object.freeze(record);
}

function freezeNode(record: NodeRecord): NodeRecord {
  return deepFreeze(record);
}

/** Node records carry the node.info body, a small tree of plain objects and arrays. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
