import { branchMoved } from './branch-moved.js';

const head = '3f9a1c27d0be4e5f8a6b7c8d9e0f1a2b3c4d5e6f';

describe('branchMoved', () => {
  it('stays put when the deployed commit is the head', () => {
    expect(branchMoved(head, head)).toBe(false);
  });

  // pollRedeploy compared with === before the rules were made one: these redeployed an unchanged branch
  it('stays put when a worker reported the head abbreviated or in upper case', () => {
    expect(branchMoved(head.slice(0, 7), head)).toBe(false);
    expect(branchMoved(head.toUpperCase(), head)).toBe(false);
    expect(branchMoved(head.slice(0, 12).toUpperCase(), head)).toBe(false);
  });

  it('moves when the head is another commit, full or abbreviated', () => {
    const other = '3f9a1c3000000000000000000000000000000000';
    expect(branchMoved(other, head)).toBe(true);
    expect(branchMoved(other.slice(0, 8), head)).toBe(true);
  });

  it('stays put with nothing deployed to compare: the head is being built', () => {
    expect(branchMoved(null, head)).toBe(false);
    expect(branchMoved(undefined, head)).toBe(false);
  });
});
