import { closestKey, editDistance } from './suggest.js';

const KNOWN = ['lang', 'port', 'run', 'test', 'env', 'memory', 'cpus'];

describe('closestKey', () => {
  it.each([
    ['prot', 'port'],
    ['Port', 'port'],
    ['cpu', 'cpus'],
    ['memroy', 'memory'],
    ['tset', 'test'],
    ['language', 'lang'],
  ])('suggests %s -> %s', (typo, known) => {
    expect(closestKey(typo, KNOWN)).toBe(known);
  });

  it('uses synonyms only when they name a known key', () => {
    expect(closestKey('command', KNOWN, { command: 'run' })).toBe('run');
    expect(closestKey('command', KNOWN, { command: 'cmd' })).toBeUndefined();
  });

  it('does not guess when nothing is close', () => {
    expect(closestKey('url', KNOWN)).toBeUndefined();
    expect(closestKey('whatever', KNOWN)).toBeUndefined();
  });
});

describe('editDistance', () => {
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
