import { withLabels } from './dockerfile.js';

describe('withLabels', () => {
  it('appends every label as one LABEL instruction, so the build spends one step on them', () => {
    const result = withLabels('FROM scratch\nCOPY . .\n', { 'org.kraken.node': 'n1', 'org.kraken.app': 'shop', 'org.kraken.commit': 'abc123' });
    expect(result).toBe('FROM scratch\nCOPY . .\nLABEL "org.kraken.node"="n1" "org.kraken.app"="shop" "org.kraken.commit"="abc123"\n');
    expect(result.match(/^LABEL /gm)).toHaveLength(1);
  });

  it('starts a new line when the Dockerfile does not end with one', () => {
    expect(withLabels('FROM scratch', { a: 'b' })).toBe('FROM scratch\nLABEL "a"="b"\n');
  });

  it('escapes quotes, backslashes and $ so values are stored as given, and keeps a value on one line', () => {
    expect(withLabels('FROM scratch\n', { note: 'say "hi" \\ $HOME\nnext' })).toBe('FROM scratch\nLABEL "note"="say \\"hi\\" \\\\ \\$HOME next"\n');
  });

  it('leaves the Dockerfile unchanged when there are no labels', () => {
    expect(withLabels('FROM scratch\n', {})).toBe('FROM scratch\n');
  });
});
