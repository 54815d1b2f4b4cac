import { namesRequirements } from './prepare.js';

describe('namesRequirements', () => {
  it('is true when a line names a package', () => {
    expect(namesRequirements('# web\nflask==3.0.0\n')).toBe(true);
    expect(namesRequirements('  requests  ')).toBe(true);
  });

  it('is false for a file of blank lines and comments, which needs no pip', () => {
    expect(namesRequirements('')).toBe(false);
    expect(namesRequirements('\n  \n# nothing yet\n   # indented comment\n')).toBe(false);
  });
});
