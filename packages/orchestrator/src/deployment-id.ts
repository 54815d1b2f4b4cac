import { randomBytes } from 'node:crypto';

/**
 * A readable, unique deployment id from the repository name: `https://git.lan/alice/Todo-API.git`
 * -> `todo-api-3f9a1c`. Ids end up in queue names, container labels and paths (ID_PATTERN).
 */
export function newDeploymentId(srcUrl: string): string {
  const last = srcUrl.replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
  const slug = last
    .replace(/\.git$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug === '' ? 'app' : slug}-${randomBytes(3).toString('hex')}`;
}
