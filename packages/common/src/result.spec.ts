import type { Result } from './result.js';
import { err, ok } from './result.js';

function half(n: number): Result<number, string> {
  return n % 2 === 0 ? ok(n / 2) : err(`${n} is odd`);
}

describe('Result', () => {
  it('ok() wraps a value', () => {
    expect(ok(42)).toEqual({ ok: true, value: 42 });
  });

  it('err() wraps an error', () => {
    expect(err('bad')).toEqual({ ok: false, error: 'bad' });
  });

  it('narrows on `ok` to the value or the error', () => {
    const results = [half(8), half(3)].map((r) => (r.ok ? `value ${r.value}` : `error ${r.error}`));

    expect(results).toEqual(['value 4', 'error 3 is odd']);
  });
});
