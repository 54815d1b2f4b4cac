import { sameCommit } from './same-commit.js';

const full = '3f9a1c27d0be4e5f8a6b7c8d9e0f1a2b3c4d5e6f';

describe('sameCommit', () => {
  it('matches a full sha with itself', () => {
    expect(sameCommit(full, full)).toBe(true);
  });

  it('matches an abbreviated sha with the full one, either way round', () => {
    expect(sameCommit(full.slice(0, 7), full)).toBe(true);
    expect(sameCommit(full, full.slice(0, 12))).toBe(true);
  });

  it('ignores the case of the hex digits', () => {
    expect(sameCommit(full.toUpperCase(), full)).toBe(true);
    expect(sameCommit(full.slice(0, 7).toUpperCase(), full)).toBe(true);
  });

  it('tells different commits apart, full or abbreviated', () => {
    const other = '3f9a1c3000000000000000000000000000000000';
    expect(sameCommit(other, full)).toBe(false);
    expect(sameCommit(other.slice(0, 8), full)).toBe(false);
  });
});
