import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pack } from 'tar-fs';
import type { TarPack } from 'tar-fs';

/** Where the language template goes inside the build context (a name no app is likely to use). */
export const TEMPLATE_NAME = '.kraken.Dockerfile';

/**
 * The checkout as a tar for `/build`, optionally with the template added as TEMPLATE_NAME. The
 * engine does not apply `.dockerignore` to a posted tar (only the docker CLI does), so it is applied
 * here.
 */
export async function buildContext(dir: string, template?: string): Promise<TarPack> {
  const ignored = parseDockerignore(await readDockerignore(dir));
  const matcher = (absolute: string): boolean => {
    const relative = path.relative(dir, absolute).split(path.sep).join('/');
    return isExcluded(relative, ignored);
  };
  if (template === undefined) return pack(dir, { ignore: matcher });
  return pack(dir, {
    ignore: matcher,
    finalize: false,
    finish: (tar) => {
      tar.entry({ name: TEMPLATE_NAME, mode: 0o644 }, template, (error) => {
        if (error) tar.destroy(error);
        else tar.finalize();
      });
    },
  });
}

async function readDockerignore(dir: string): Promise<string> {
  try {
    return await readFile(path.join(dir, '.dockerignore'), 'utf8');
  } catch {
    return '';
  }
}

export interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

/** `.dockerignore` lines -> rules: comments and blanks dropped, `!` negates, leading `/` and `./` ignored. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = path.posix.normalize(line.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (line === '.' || line === '') continue;
    rules.push({ negate, regex: globToRegex(line) });
  }
  return rules;
}

/**
 * Docker's rule: the last matching pattern wins, and a pattern that matches a folder matches
 * everything under it. `.git` and `node_modules` are excluded whatever the file says.
 */
export function isExcluded(relative: string, rules: readonly IgnoreRule[]): boolean {
  if (relative === '' || relative === '.') return false;
  // Never sent: `.git` is history the image does not need, and a host `node_modules` would
  // overwrite the one the template's `npm install` made (dockerfiles/README.md).
  const parts = relative.split('/');
  if (parts[0] === '.git' || parts.includes('node_modules')) return true;
  // the Dockerfile the build needs is sent even when ignored, as the docker CLI does
  if (relative === TEMPLATE_NAME) return false;
  let excluded = false;
  for (const rule of rules) {
    for (let depth = 1; depth <= parts.length; depth += 1) {
      if (rule.regex.test(parts.slice(0, depth).join('/'))) {
        excluded = !rule.negate;
        break;
      }
    }
  }
  return excluded;
}

/** Go's filepath.Match syntax plus `**` (any number of folders), as Docker reads it. */
export function globToRegex(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob.charAt(index);
    if (char === '*') {
      if (glob[index + 1] === '*') {
        index += 1;
        if (glob[index + 1] === '/') {
          index += 1;
          source += '(?:.*/)?';
        } else {
          source += '.*';
        }
      } else {
        source += '[^/]*';
      }
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      const end = glob.indexOf(']', index + 1);
      if (end === -1) {
        source += '\\[';
      } else {
        source += `[${glob.slice(index + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        index = end;
      }
    } else {
      source += /[.+^${}()|\\]/.test(char) ? `\\${char}` : char;
    }
  }
  return new RegExp(`^${source}$`);
}
