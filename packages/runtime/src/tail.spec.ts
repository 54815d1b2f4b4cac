import { Tail } from './tail.js';

describe('Tail', () => {
  it('keeps only the last lines, and formats them as an indented block for an error message', () => {
    const tail = new Tail(2);
    for (const line of ['a', 'b', 'c']) tail.push(line);
    expect(tail.lines).toEqual(['b', 'c']);
    expect(tail.format()).toBe('\nlast output lines:\n  b\n  c');
    expect(tail.format('build output')).toBe('\nbuild output:\n  b\n  c');
  });

  it('formats nothing when there was no output', () => {
    expect(new Tail(2).format()).toBe('');
  });
});
