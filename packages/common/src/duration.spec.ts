import { parseDuration } from './duration.js';
import { ErrorCode, KrakenError } from './errors.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['500', 500],
    ['0', 0],
    [' 3 s ', 3_000],
    ['1.5ms', 2],
  ])('reads %j as %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([0, 1500, 0.5])('takes the number %d as milliseconds', (input) => {
    expect(parseDuration(input)).toBe(input);
  });

  it.each([
    ['', '""'],
    ['10 parsecs', '"10 parsecs"'],
    ['s', '"s"'],
    ['-5s', '"-5s"'],
    ['1e3', '"1e3"'],
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('refuses %j, naming it and the allowed units', (input, shown) => {
    const attempt = () => parseDuration(input);

    expect(attempt).toThrow(KrakenError);
    expect(attempt).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput }) as Error);
    expect(attempt).toThrow(`invalid duration ${shown}: use a number with ms, s, m or h (e.g. "10s")`);
  });

  it('refuses a duration too large to be a finite number of milliseconds', () => {
    expect(() => parseDuration(`${'9'.repeat(400)}h`)).toThrow(/^invalid duration "9{400}h"/);
  });
});
