import { randomBytes } from 'node:crypto';

/**
 * The repository's name as a DNS label: `https://git.lan/alice/Todo-API.git` -> `todo-api` (`app`
 * when nothing is left of it).
 */
export function repositorySlug(srcUrl: string): string {
  const last = srcUrl.replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
  const slug = last
    .replace(/\.git$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug === '' ? 'app' : slug;
}

/**
 * A readable, unique deployment id from the repository name: `https://git.lan/alice/Todo-API.git`
 * -> `todo-api-3f9a1c`. Ids end up in queue names, container labels and paths (ID_PATTERN).
 */
export function newDeploymentId(srcUrl: string): string {
  return `${repositorySlug(srcUrl)}-${randomBytes(3).toString('hex')}`;
}

/** `base`, or `base-2`, `base-3`... : the first that `taken` says is free. */
export function uniqueName(base: string, taken: (name: string) => boolean): string {
  if (!taken(base)) return base;
  for (let n = 2; ; n += 1) {
    const suffix = `-${String(n)}`;
    const candidate = `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (!taken(candidate)) return candidate;
  }
}
