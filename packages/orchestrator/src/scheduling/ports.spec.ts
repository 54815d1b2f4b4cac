import { allocatePort } from './ports.js';

describe('allocatePort', () => {
  it('starts at 20000 by default', () => {
    expect(allocatePort([])).toBe(20000);
  });

  it('never returns a port any deployment uses', () => {
    expect(allocatePort([20000, 20001, 20003])).toBe(20002);
    expect(allocatePort(new Set([20000, 20002]))).toBe(20001);
  });

  it('ignores used ports outside the range', () => {
    expect(allocatePort([8080, 30000], { min: 8080, max: 8081 })).toBe(8081);
  });

  it('says so when the range is exhausted', () => {
    expect(() => allocatePort([5000, 5001], { min: 5000, max: 5001 })).toThrow(
      'no free host port: all 2 ports of 5000-5001 are used by deployments',
    );
  });

  it('refuses an invalid range', () => {
    expect(() => allocatePort([], { min: 30000, max: 20000 })).toThrow('port range 30000-20000 is invalid');
  });
});
