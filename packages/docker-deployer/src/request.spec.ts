import { ErrorCode } from '@kraken/common';
import type { DeployLimits, DeployRequest } from '@kraken/runtime';
import { thrown } from '@kraken/testing';
import { validateRequest } from './request.js';

const base: DeployRequest = { deploymentId: 'd1', url: '/repo', branch: 'main' };

function failure(request: Partial<DeployRequest>): unknown {
  return thrown(() => {
    validateRequest({ ...base, ...request });
  });
}

describe('validateRequest', () => {
  it('accepts a request with limits and a commit', () => {
    expect(failure({ limits: { memoryMb: 256, cpus: 0.5 }, commit: '1a2b3c4' })).toBeUndefined();
    expect(failure({ limits: {} })).toBeUndefined();
    expect(failure({ commit: 'a'.repeat(40) })).toBeUndefined();
  });

  // the limits' own rules are @kraken/runtime's validateLimits (tested there); this checks the request applies them
  it('refuses limits out of range as InvalidInput naming the limit', () => {
    expect(failure({ limits: { memoryMb: 5 } })).toMatchObject({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { field: 'limits.memoryMb' } });
    expect(failure({ limits: 512 as unknown as DeployLimits })).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'limits' } });
  });

  it.each(['abc', 'xyz1234', 'a'.repeat(41), '-1234567', 'HEAD~1'])('refuses commit %j as InvalidInput', (commit) => {
    expect(failure({ commit })).toMatchObject({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { field: 'commit' } });
  });
});
