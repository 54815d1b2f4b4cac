import { SourceMap } from './source-map.js';

describe('SourceMap', () => {
  const text = [
    '# comment with key = 1', // 1
    'top = 1', // 2
    '[app]', // 3
    'name = "x" # name = "not this"', // 4
    'notes = """', // 5
    'fake = "inside a string"', // 6
    '"""', // 7
    '[ config . env ]', // 8
    '"QUOTED KEY" = "v"', // 9
    "'literal.key' = 'v'", // 10
    '[config]', // 11
    'limits.memory = "1g"', // 12
    'env2 = { A = 1.50, B = "x, y", C = [1, 2] }', // 13
  ].join('\n');
  const map = SourceMap.scan(text);

  it('finds tables, keys, dotted keys and quoted keys', () => {
    expect(map.exactLineOf(['top'])).toBe(2);
    expect(map.exactLineOf(['app'])).toBe(3);
    expect(map.exactLineOf(['app', 'name'])).toBe(4);
    expect(map.exactLineOf(['config', 'env'])).toBe(8);
    expect(map.exactLineOf(['config', 'env', 'QUOTED KEY'])).toBe(9);
    expect(map.exactLineOf(['config', 'env', 'literal.key'])).toBe(10);
    expect(map.exactLineOf(['config', 'limits', 'memory'])).toBe(12);
  });

  it('skips comments and the inside of multi-line strings', () => {
    expect(map.exactLineOf(['key'])).toBeUndefined();
    expect(map.exactLineOf(['app', 'fake'])).toBeUndefined();
  });

  it('places a missing key at its nearest known parent', () => {
    expect(map.lineOf(['app', 'version'])).toBe(3);
    expect(map.lineOf(['nowhere', 'at', 'all'])).toBeUndefined();
  });

  it('keeps the raw text of values, including those in one-line inline tables', () => {
    expect(map.rawValueOf(['app', 'name'])).toBe('"x" # name = "not this"');
    expect(map.rawValueOf(['config', 'env2', 'A'])).toBe('1.50');
    expect(map.rawValueOf(['config', 'env2', 'B'])).toBe('"x, y"');
    expect(map.rawValueOf(['config', 'env2', 'C'])).toBe('[1, 2]');
    expect(map.exactLineOf(['config', 'env2', 'C'])).toBe(13);
  });

  it('handles Windows line endings', () => {
    expect(SourceMap.scan('[app]\r\nname = "x"\r\n').exactLineOf(['app', 'name'])).toBe(2);
  });
});
