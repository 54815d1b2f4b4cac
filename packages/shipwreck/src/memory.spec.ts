import { parseMemoryMb } from './memory.js';

describe('parseMemoryMb', () => {
  it.each([
    ['512m', 512],
    ['512M', 512],
    ['512mb', 512],
    ['512 MiB', 512],
    ['1g', 1024],
    ['2GB', 2048],
    ['0.5g', 512],
    [' 64m ', 64],
    [300, 300],
  ] as const)('reads %j as %d MB', (value, mb) => {
    expect(parseMemoryMb(value)).toBe(mb);
  });

  it.each(['512', '512k', 'lots', '1.3g', '', '-1g'])('refuses %j', (value) => {
    expect(parseMemoryMb(value)).toBeUndefined();
  });

  it('refuses fractional megabytes given as a number', () => {
    expect(parseMemoryMb(1.5)).toBeUndefined();
  });
});
