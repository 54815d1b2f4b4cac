import type { ApplicationStatus } from './api/types.js';
import { listQueryString, parseListQuery, selectDeployments } from './deployment-list.js';

function deployment(id: string, status: ApplicationStatus, more: { node?: string; srcUrl?: string; branch?: string; name?: string; created?: number } = {}) {
  return {
    id,
    name: more.name ?? null,
    srcUrl: more.srcUrl ?? `https://git.lan/team/${id}.git`,
    gitBranch: more.branch ?? 'main',
    node: more.node ?? null,
    status,
    statusHistory: [{ status: 'DEPLOYMENT_REQUESTED' as const, time: more.created ?? 0, message: null, node: null }],
  };
}

const list = [
  deployment('blog-1', 'RUNNING', { node: 'pi-2', created: 1, name: 'blog' }),
  deployment('shop-1', 'ERRORED', { node: 'mini-pc', created: 3, branch: 'release' }),
  deployment('wiki-1', 'DESTROYED', { created: 2, srcUrl: 'https://git.lan/docs/wiki.git' }),
  deployment('api-1', 'ERRORED', { node: 'pi-2', created: 4 }),
];
const ids = (query: string) => selectDeployments(list, parseListQuery(query)).map((d) => d.id);

describe('the deployments list query', () => {
  it('lists newest first when nothing is asked', () => {
    expect(ids('')).toEqual(['api-1', 'shop-1', 'wiki-1', 'blog-1']);
  });

  it('finds every word in the id, name, source, branch or node, ignoring case', () => {
    expect(ids('?q=PI-2')).toEqual(['api-1', 'blog-1']);
    expect(ids('?q=release')).toEqual(['shop-1']);
    expect(ids('?q=docs')).toEqual(['wiki-1']);
    expect(ids('?q=blog+pi-2')).toEqual(['blog-1']);
    expect(ids('?q=nowhere')).toEqual([]);
  });

  it('filters by status, together with the search', () => {
    expect(ids('?status=ERRORED')).toEqual(['api-1', 'shop-1']);
    expect(ids('?status=ERRORED&q=mini')).toEqual(['shop-1']);
  });

  it('sorts by a column either way, statuses in lifecycle order, ties by id', () => {
    expect(ids('?sort=id&order=asc')).toEqual(['api-1', 'blog-1', 'shop-1', 'wiki-1']);
    expect(ids('?sort=id&order=desc')).toEqual(['wiki-1', 'shop-1', 'blog-1', 'api-1']);
    expect(ids('?sort=status')).toEqual(['blog-1', 'wiki-1', 'api-1', 'shop-1']);
    expect(ids('?sort=node&order=asc')).toEqual(['wiki-1', 'shop-1', 'api-1', 'blog-1']);
  });

  it('ignores values a hand-edited URL got wrong', () => {
    expect(parseListQuery('?status=NAPPING&sort=colour&order=sideways')).toEqual({ search: '', status: undefined, sort: undefined });
  });

  it('writes the query back to the URL, leaving out what is not set, so it reads back the same', () => {
    const query = { search: 'pi 2', status: 'ERRORED' as const, sort: { key: 'node' as const, order: 'desc' as const } };
    expect(listQueryString(query)).toBe('?q=pi+2&status=ERRORED&sort=node&order=desc');
    expect(parseListQuery(listQueryString(query))).toEqual(query);
    expect(listQueryString({ search: '', status: undefined, sort: undefined })).toBe('');
  });
});
