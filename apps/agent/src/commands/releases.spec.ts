import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { ReleaseView } from '../client/queries.js';
import { Queries } from '../client/queries.js';
import { logsCommand } from './logs.js';
import { releasesCommand } from './releases.js';

const releases: ReleaseView[] = [
  { number: 1, commit: '0123456789abcdef', trigger: 'deploy by API', startedAt: 1_764_072_000, endedAt: 1_764_072_042.5, durationMs: 42_500, result: 'SUCCEEDED', reason: null },
  { number: 2, commit: null, trigger: 'redeploy', startedAt: 1_764_075_600, endedAt: 1_764_075_603, durationMs: 3000, result: 'FAILED', reason: 'npm test failed: 1 failing' },
  { number: 3, commit: null, trigger: 'new commit on branch (watch)', startedAt: 1_764_079_200, endedAt: null, durationMs: 65_000, result: 'BUILDING', reason: null },
];

/** A client giving `answers` in turn (the last one again once they run out), noting what it was asked. */
function clientAnswering(answers: unknown, asked: { query: string; variables: unknown }[] = []): ApiClient {
  const queue = Array.isArray(answers) ? [...(answers as unknown[])] : [answers];
  return {
    graphql: (query: string, variables: unknown) => {
      asked.push({ query, variables });
      return Promise.resolve(queue.length > 1 ? queue.shift() : queue[0]);
    },
  } as unknown as ApiClient;
}

describe('kraken releases', () => {
  it('lists each build with its commit, trigger, start, duration and result, and why one failed', async () => {
    const out: string[] = [];
    const asked: { query: string; variables: unknown }[] = [];
    const code = await releasesCommand(clientAnswering({ getReleases: releases }, asked), { id: 'blog-1', json: false }, { out: (line) => out.push(line), err: () => undefined });
    expect(code).toBe(ExitCode.Ok);
    expect(asked).toEqual([{ query: Queries.getReleases, variables: { id: 'blog-1' } }]);
    expect(out.join('\n').split('\n')).toEqual([
      '#  COMMIT    TRIGGER                       STARTED                  DURATION      RESULT',
      '1  01234567  deploy by API                 2025-11-25 12:00:00 UTC  42.5s         succeeded',
      '2  -         redeploy                      2025-11-25 13:00:00 UTC  3.0s          failed',
      '3  -         new commit on branch (watch)  2025-11-25 14:00:00 UTC  1m05s so far  building',
      '#2 failed: npm test failed: 1 failing',
      "a release's own log: kraken logs blog-1 --release <#>",
    ]);
  });

  it('prints the API answer as JSON with --json', async () => {
    const out: string[] = [];
    await releasesCommand(clientAnswering({ getReleases: releases }), { id: 'blog-1', json: true }, { out: (line) => out.push(line), err: () => undefined });
    expect(JSON.parse(out.join('\n'))).toEqual(releases);
  });
});

describe('kraken logs --release', () => {
  it('asks for the lines of that release only', async () => {
    const asked: { query: string; variables: unknown }[] = [];
    const out: string[] = [];
    const page = { logs: { lines: [{ seq: 4, stream: 'build', text: 'Step 1/5', time: 1 }], next: 4, dropped: 0 } };
    const end = { logs: { lines: [], next: 4, dropped: 0 } };
    await logsCommand(clientAnswering([page, end], asked), { id: 'blog-1', follow: false, json: false, release: 2 }, { out: (line) => out.push(line), err: () => undefined });
    expect(asked.map((a) => a.variables)).toEqual([
      { id: 'blog-1', after: 0, limit: 500, release: 2 },
      { id: 'blog-1', after: 4, limit: 500, release: 2 },
    ]);
    expect(out).toEqual(['[build] Step 1/5']);
  });
});
