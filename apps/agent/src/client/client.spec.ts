import { ErrorCode, KrakenError } from '@kraken/common';
import { parseEnvPairs } from '../commands/deploy.js';
import { ExitCode, exitCodeOf } from './exit-codes.js';
import { formatElapsed, formatTable } from './table.js';
import { SECRETS_FILE } from '@kraken/orchestrator';
import { SECRETS_FILE as CLIENT_SECRETS_FILE, resolveClientTarget } from './credentials.js';

describe('client helpers', () => {
  it('aligns table columns and shows empty cells as -', () => {
    expect(formatTable(['ID', 'STATUS', 'URL'], [['a1', 'running', 'http://x:1'], ['longer-id', 'errored', null]])).toBe(
      ['ID         STATUS   URL', 'a1         running  http://x:1', 'longer-id  errored  -'].join('\n'),
    );
  });

  it('formats elapsed times briefly', () => {
    expect(formatElapsed(3_240)).toBe('3.2s');
    expect(formatElapsed(65_000)).toBe('1m05s');
  });

  it('parses NAME=value pairs, keeping "=" inside values, and rejects bad names', () => {
    expect(parseEnvPairs(['A=1', 'DATABASE_URL=postgres://u:p@h/db?x=y', 'EMPTY='])).toEqual([
      { name: 'A', value: '1' },
      { name: 'DATABASE_URL', value: 'postgres://u:p@h/db?x=y' },
      { name: 'EMPTY', value: '' },
    ]);
    expect(() => parseEnvPairs(['1BAD=x'])).toThrow(/NAME=value/);
    expect(() => parseEnvPairs(['NOVALUE'])).toThrow(/NAME=value/);
    expect(() => parseEnvPairs(['__proto__=x'])).toThrow('--env "__proto__=x": expected NAME=value; __proto__ cannot be an environment variable name here');
  });

  it('maps error codes to documented exit codes', () => {
    expect(exitCodeOf(new KrakenError(ErrorCode.InvalidInput, 'x'))).toBe(ExitCode.Usage);
    expect(exitCodeOf(new KrakenError(ErrorCode.Unavailable, 'x'))).toBe(ExitCode.Unreachable);
    expect(exitCodeOf(new KrakenError(ErrorCode.NotFound, 'x'))).toBe(ExitCode.NotFound);
    expect(exitCodeOf(new KrakenError(ErrorCode.Unauthorized, 'x'))).toBe(ExitCode.Unauthorized);
    expect(exitCodeOf(new Error('surprise'))).toBe(ExitCode.Failed);
  });

  it('takes the API URL and token from flags, then the environment, then the local agent', () => {
    expect(resolveClientTarget({ api: 'http://a:1', token: 't1' }, { KRAKEN_API: 'http://b:2', KRAKEN_TOKEN: 't2' })).toEqual({ url: 'http://a:1', token: 't1' });
    expect(resolveClientTarget({}, { KRAKEN_API: 'http://b:2', KRAKEN_TOKEN: 't2' })).toEqual({ url: 'http://b:2', token: 't2' });
    expect(resolveClientTarget({ dataDir: '/nonexistent' }, {})).toEqual({ url: 'http://127.0.0.1:4000', token: undefined });
  });
});

describe('client credentials file', () => {
  it('is the file the orchestrator writes its secrets to', () => {
    expect(CLIENT_SECRETS_FILE).toBe(SECRETS_FILE);
  });
});
