import { globToRegex, isExcluded, parseDockerignore } from './build-context.js';

describe('build context exclusions', () => {
  it('always leaves out .git and every node_modules', () => {
    expect(isExcluded('.git', [])).toBe(true);
    expect(isExcluded('.git/config', [])).toBe(true);
    expect(isExcluded('packages/a/node_modules/x.js', [])).toBe(true);
    expect(isExcluded('src/index.js', [])).toBe(false);
  });

  it('applies .dockerignore with folders, globs and negation (last match wins)', () => {
    const rules = parseDockerignore('# secrets\n/secret.txt\n*.log\n!keep.log\ndocs/\n**/*.tmp\n');
    expect(isExcluded('secret.txt', rules)).toBe(true);
    expect(isExcluded('debug.log', rules)).toBe(true);
    expect(isExcluded('keep.log', rules)).toBe(false);
    expect(isExcluded('docs/guide/a.md', rules)).toBe(true);
    expect(isExcluded('a/b/c.tmp', rules)).toBe(true);
    expect(isExcluded('src/app.js', rules)).toBe(false);
  });

  it('translates Go-style globs', () => {
    expect(globToRegex('a?c').test('abc')).toBe(true);
    expect(globToRegex('*.js').test('dir/a.js')).toBe(false);
    expect(globToRegex('[!a]x').test('bx')).toBe(true);
  });
});
