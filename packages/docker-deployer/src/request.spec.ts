import { ErrorCode } from '@kraken/common';
import type { DeployLimits, DeployRequest } from './request.js';
import { validateRequest } from './request.js';

const base: DeployRequest = { deploymentId: 'd1', url: '/repo', branch: 'main' };

function failure(request: Partial<DeployRequest>): unknown {
  try {
    validateRequest({ ...base, ...request });
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('validateRequest', () => {
  it('accepts a request with limits and a commit', () => {
    expect(failure({ limits: { memoryMb: 256, cpus: 0.5 }, commit: '1a2b3c4' })).toBeUndefined();
    expect(failure({ limits: {} })).toBeUndefined();
    expect(failure({ commit: 'a'.repeat(40) })).toBeUndefined();
  });

  it.each([
    [{ memoryMb: 5 }, 'limits.memoryMb', 'limits.memoryMb must be a whole number of megabytes from 6 to 1048576; got 5'],
    [{ memoryMb: 256.5 }, 'limits.memoryMb', 'got 256.5'],
    [{ memoryMb: '512m' as unknown as number }, 'limits.memoryMb', 'got "512m"'],
    [{ cpus: 0 }, 'limits.cpus', 'limits.cpus must be a number of CPUs from 0.01 to 64, such as 0.5 or 2; got 0'],
    [{ cpus: 65 }, 'limits.cpus', 'got 65'],
    [{ cpus: Number.NaN }, 'limits.cpus', 'got NaN'],
    [{ memory: 512 } as DeployLimits, 'limits.memory', 'limits.memory is not a limit; use memoryMb and/or cpus'],
  ])('refuses limits %j as InvalidInput naming %s', (limits, field, message) => {
    expect(failure({ limits })).toMatchObject({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { field } });
    expect(failure({ limits })).toHaveProperty('message', expect.stringContaining(message));
  });

  it('refuses limits that are not an object', () => {
    expect(failure({ limits: 512 as unknown as DeployLimits })).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'limits' } });
  });

  it.each(['abc', 'xyz1234', 'a'.repeat(41), '-1234567', 'HEAD~1'])('refuses commit %j as InvalidInput', (commit) => {
    expect(failure({ commit })).toMatchObject({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { field: 'commit' } });
  });
});
