// What the deployments list shows: search, status filter and sort, kept in the URL's query so a
// bookmark or a reload restores them. Pure: no React, unit-tested directly.
import type { ApplicationStatus, Deployment } from './api/types.js';
import { applicationStatuses } from './api/types.js';

export const sortKeys = ['id', 'status', 'source', 'node'] as const;
export type SortKey = (typeof sortKeys)[number];
type SortOrder = 'asc' | 'desc';

export interface ListQuery {
  /** Words to find in the id, name, source, branch or node; '' finds everything. */
  search: string;
  status: ApplicationStatus | undefined;
  /** Undefined: newest first. */
  sort: { key: SortKey; order: SortOrder } | undefined;
}

type Listed = Pick<Deployment, 'id' | 'name' | 'srcUrl' | 'gitBranch' | 'node' | 'status' | 'statusHistory'>;

/** Reads `?q=...&status=ERRORED&sort=node&order=desc`; unknown values are ignored, not errors (a hand-edited URL). */
export function parseListQuery(search: string): ListQuery {
  const params = new URLSearchParams(search);
  const status = params.get('status');
  const key = params.get('sort');
  const order = params.get('order') === 'desc' ? 'desc' : 'asc';
  return {
    search: params.get('q') ?? '',
    status: applicationStatuses.find((s) => s === status),
    sort: sortKeys.includes(key as SortKey) ? { key: key as SortKey, order } : undefined,
  };
}

/** The query string for a ListQuery ('' when it is the default), leaving out what is not set. */
export function listQueryString(query: ListQuery): string {
  const params = new URLSearchParams();
  if (query.search !== '') params.set('q', query.search);
  if (query.status !== undefined) params.set('status', query.status);
  if (query.sort !== undefined) {
    params.set('sort', query.sort.key);
    params.set('order', query.sort.order);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Every word of the search must be in one of the fields (case-insensitive). */
function matches(deployment: Listed, words: readonly string[]): boolean {
  const haystack = [deployment.id, deployment.name ?? '', deployment.srcUrl, deployment.gitBranch, deployment.node ?? ''].join('\n').toLowerCase();
  return words.every((word) => haystack.includes(word));
}

const statusRank = new Map(applicationStatuses.map((status, index) => [status, index]));

const sortValue: Record<SortKey, (d: Listed) => string | number> = {
  id: (d) => d.id,
  // lifecycle order, as the schema lists the statuses (ERRORED last)
  status: (d) => statusRank.get(d.status) ?? 0,
  source: (d) => `${d.srcUrl}\n${d.gitBranch}`,
  node: (d) => d.node ?? '',
};

function compare(a: string | number, b: string | number): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
}

/** When it was requested: its first status. */
function createdAt(d: Listed): number {
  return d.statusHistory[0]?.time ?? 0;
}

/** The deployments the query selects, in its order (newest first when it sets none; ties by id). */
export function selectDeployments<T extends Listed>(deployments: readonly T[], query: ListQuery): T[] {
  const words = query.search.toLowerCase().split(/\s+/).filter((word) => word !== '');
  const selected = deployments.filter((d) => (query.status === undefined || d.status === query.status) && matches(d, words));
  const { sort } = query;
  if (sort === undefined) return selected.sort((a, b) => createdAt(b) - createdAt(a) || compare(a.id, b.id));
  const sign = sort.order === 'asc' ? 1 : -1;
  const value = sortValue[sort.key];
  return selected.sort((a, b) => sign * compare(value(a), value(b)) || compare(a.id, b.id));
}
