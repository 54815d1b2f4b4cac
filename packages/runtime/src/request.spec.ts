import { ErrorCode } from '@kraken/common';
import type { DeployLimits, DeployRequest } from './request.js';
import { effectiveLimits, validateLimits, validateRequestFields } from './request.js';

describe('effectiveLimits', () => {
  it('takes each limit from the request first, then the manifest, then the runtime default', () => {
    expect(effectiveLimits({ memoryMb: 128 }, { memoryMb: 256, cpus: 0.5 }, { memoryMb: 512, cpus: 1 })).toEqual({ memoryMb: 128, cpus: 0.5 });
    expect(effectiveLimits({ cpus: 2 }, {}, { memoryMb: 512, cpus: 1 })).toEqual({ memoryMb: 512, cpus: 2 });
    expect(effectiveLimits(undefined, { cpus: 0.25 }, { memoryMb: 512, cpus: 1 })).toEqual({ memoryMb: 512, cpus: 0.25 });
  });

  it('leaves out a limit nobody sets, so a runtime without defaults runs the app unbounded there', () => {
    expect(effectiveLimits(undefined, {})).toEqual({});
    expect(effectiveLimits({}, { memoryMb: 64 })).toEqual({ memoryMb: 64 });
    expect(Object.keys(effectiveLimits({ cpus: 1 }, {}))).toEqual(['cpus']);
  });
});

describe('validateLimits', () => {
  /** Matches the InvalidInput a bad limit throws, naming the field. */
  const invalidInput = (field: string, message = ''): Error =>
    expect.objectContaining({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { field }, message: expect.stringContaining(message) as string }) as Error;

  it('accepts limits within the manifest bounds, and none', () => {
    for (const limits of [{ memoryMb: 6, cpus: 0.01 }, { memoryMb: 1024 * 1024, cpus: 64 }, {}]) {
      expect(() => {
        validateLimits(limits, 'd1');
      }).not.toThrow();
    }
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
    expect(() => {
      validateLimits(limits, 'd1');
    }).toThrow(invalidInput(field, message));
  });

  it('refuses limits that are not an object', () => {
    for (const limits of [512, null, [256]]) {
      expect(() => {
        validateLimits(limits as unknown as DeployLimits, 'd1');
      }).toThrow(invalidInput('limits'));
    }
  });
});

describe('validateRequestFields', () => {
  const base: DeployRequest = { deploymentId: 'd1', url: '/repo', branch: 'main' };
  const check = (change: Partial<DeployRequest>) => () => {
    validateRequestFields({ ...base, ...change }, 'the container and image');
  };

  it('accepts a request whose id, host port and env names every runtime can use', () => {
    expect(check({ deploymentId: 'Blog_1.2-x', hostPort: 65535, env: { _PORT: '1', 'a.b-c': '2' } })).not.toThrow();
  });

  it('refuses a deployment id that cannot name things, saying what it names on this runtime', () => {
    expect(check({ deploymentId: '../escape' })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidInput, details: { field: 'deploymentId' }, message: expect.stringContaining('(it names the container and image)') as string }) as Error,
    );
    expect(check({ deploymentId: 'a'.repeat(101) })).toThrow(expect.objectContaining({ details: { field: 'deploymentId' } }) as Error);
  });

  it.each<[Partial<DeployRequest>, string]>([
    [{ hostPort: 0 }, 'hostPort'],
    [{ hostPort: 1.5 }, 'hostPort'],
    [{ env: { '1ST': 'x' } }, 'env.1ST'],
    [{ env: { 'NOT VALID': 'x' } }, 'env.NOT VALID'],
  ])('refuses %j as InvalidInput naming %s', (change, field) => {
    expect(check(change)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { field } }) as Error);
  });
});
