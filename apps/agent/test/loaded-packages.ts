import { readFileSync } from 'node:fs';

/**
 * The npm packages a process loaded, from the module URLs test/record-loaded-modules.mjs wrote:
 * the name after the last `node_modules/` of each (`@scope/name` or `name`). Workspace packages
 * resolve to their own folders, so they appear only when something installed them as copies.
 */
export function loadedPackages(file: string): Set<string> {
  const names = new Set<string>();
  for (const url of readFileSync(file, 'utf8').split('\n')) {
    const at = url.lastIndexOf('/node_modules/');
    if (at < 0) continue;
    const [first = '', second = ''] = url.slice(at + '/node_modules/'.length).split('/');
    names.add(first.startsWith('@') ? `${first}/${second}` : first);
  }
  return names;
}
