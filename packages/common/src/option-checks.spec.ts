import { ErrorCode } from './errors.js';
import { optionChecks } from './option-checks.js';

describe('optionChecks', () => {
  const checks = optionChecks('test-runtime');

  it('reads durations as numbers or strings, and names the component and option when one is wrong', () => {
    expect(checks.duration('stopTimeout', '2s')).toBe(2000);
    expect(checks.duration('stopTimeout', 0)).toBe(0);
    expect(() => checks.duration('stopTimeout', 'soon')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig, message: expect.stringMatching(/^test-runtime option stopTimeout: /) as unknown }) as Error);
    expect(() => checks.positiveDuration('readyTimeout', 0)).toThrow('test-runtime option readyTimeout: must be more than 0; got 0');
  });

  it('keeps numbers in their range', () => {
    expect(checks.numberIn('cpus', 0.5, 0, 64)).toBe(0.5);
    expect(() => checks.numberIn('cpus', 65, 0, 64)).toThrow('test-runtime option cpus: must be a number from 0 to 64; got 65');
    expect(() => checks.numberIn('cpus', Number.NaN, 0, 64)).toThrow(/got NaN/);
    expect(checks.invalid('x', 'bad').details).toEqual({ field: 'x' });
  });
});
