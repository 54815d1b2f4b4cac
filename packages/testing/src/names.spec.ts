import { KrakenError } from '@kraken/common';
import { uniqueName } from './names.js';

describe('uniqueName', () => {
  it('keeps the prefix readable at the front of the name', () => {
    expect(uniqueName('deploy-status')).toMatch(/^deploy-status\.[a-z0-9]+\.\d+$/);
  });

  it('never returns the same name twice in a run', () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('q')));
    expect(names.size).toBe(1000);
  });

  it.each(['', ' spaced', 'amq.gen/x', 'x'.repeat(101)])('rejects the prefix %j, naming what is allowed', (prefix) => {
    expect(() => uniqueName(prefix)).toThrow(KrakenError);
    expect(() => uniqueName(prefix)).toThrow(/prefix .* must be 1-100 characters of letters, digits/);
  });
});
