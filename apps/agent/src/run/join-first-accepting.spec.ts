import { ErrorCode, KrakenError, MemoryLogger } from '@kraken/common';
import type { Candidate } from '@kraken/discovery';
import type { JoinAnswer } from '@kraken/messages';
import { ExitCode, exitCodeOf } from '../client/exit-codes.js';
import { joinFirstAccepting } from './join-first-accepting.js';

const candidate = (url: string, clusterId?: string, source: Candidate['source'] = 'mdns'): Candidate => ({
  url,
  source,
  clusterId,
  role: 'orchestrator',
  priority: 0,
  protocolVersion: '1',
  compatible: true,
});
const grantOf = (clusterId: string): JoinAnswer => ({
  clusterId,
  brokerUrl: 'amqp://node:secret@10.0.0.1:5672',
  orchestratorNodeId: `leader-of-${clusterId}`,
  epoch: 1,
  protocolVersion: 1,
});
const tokenRefused = (url: string) =>
  new KrakenError(ErrorCode.Unauthorized, `the orchestrator at ${url} refused the join token: invalid join token`);
const unreachable = (url: string) =>
  new KrakenError(ErrorCode.Unavailable, `cannot reach the orchestrator at ${url}: connect ECONNREFUSED`);
const noJoins = (url: string) =>
  new KrakenError(
    ErrorCode.Unavailable,
    `the orchestrator at ${url} did not accept the join: this orchestrator does not accept joins`,
  );
const otherProtocol = (url: string) =>
  new KrakenError(ErrorCode.UnsupportedVersion, `the orchestrator at ${url} refused this node: update the orchestrator`);

/** A LAN where each URL answers a join as given: a grant, or an error thrown. */
function lan(answers: Record<string, JoinAnswer | KrakenError>) {
  const tried: string[] = [];
  const join = ({ url }: Candidate): Promise<JoinAnswer> => {
    tried.push(url);
    const answer = answers[url];
    if (answer === undefined) return Promise.reject(new Error(`no answer set for ${url}`));
    return answer instanceof KrakenError ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return { join, tried };
}

const A = 'http://10.0.0.2:4000';
const B = 'http://10.0.0.3:4000';
const C = 'http://10.0.0.4:4000';

describe('joinFirstAccepting', () => {
  it("joins cluster B when cluster A's orchestrator answered first and refused the token, and logs A's refusal", async () => {
    const { join, tried } = lan({ [A]: tokenRefused(A), [B]: grantOf('cluster-b') });
    const logger = new MemoryLogger();

    const joined = await joinFirstAccepting({ candidates: [candidate(A, 'cluster-a'), candidate(B, 'cluster-b')], join, logger });

    expect(joined.grant.clusterId).toBe('cluster-b');
    expect(joined.candidate.url).toBe(B);
    expect(joined.refusals.map((refusal) => refusal.candidate.url)).toEqual([A]);
    expect(tried).toEqual([A, B]);
    expect(logger.records).toContainEqual({
      level: 'warn',
      message: `the orchestrator at ${A} refused this agent`,
      fields: { url: A, clusterId: 'cluster-a', found: 'mdns', code: ErrorCode.Unauthorized, reason: tokenRefused(A).message },
    });
    expect(logger.records.at(-1)).toMatchObject({ level: 'info', fields: { url: B, clusterId: 'cluster-b', refusedBy: [A] } });
  });

  it('stops at the first that accepts', async () => {
    const { join, tried } = lan({ [B]: grantOf('cluster-b'), [A]: tokenRefused(A) });

    const joined = await joinFirstAccepting({
      candidates: [candidate(B, 'cluster-b'), candidate(A, 'cluster-a')],
      join,
      logger: new MemoryLogger(),
    });

    expect(joined).toMatchObject({ candidate: { url: B }, refusals: [] });
    expect(tried).toEqual([B]);
  });

  it('names every refusal, with its cluster and how it was found, when all refuse the token (exit 5)', async () => {
    const { join } = lan({ [A]: tokenRefused(A), [B]: tokenRefused(B) });

    const refused = await joinFirstAccepting({
      candidates: [candidate(A, 'cluster-a'), candidate(B, undefined, 'scan')],
      join,
      logger: new MemoryLogger(),
    }).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(KrakenError);
    expect(refused).toMatchObject({
      code: ErrorCode.Unauthorized,
      message:
        'none of the 2 orchestrators found accepted this agent: check --join-token (the orchestrator of the cluster to join printed it at its first start); ' +
        `${tokenRefused(A).message} (cluster cluster-a, found by mdns); ${tokenRefused(B).message} (found by scan)`,
      details: {
        refusals: [
          { url: A, clusterId: 'cluster-a', code: ErrorCode.Unauthorized, reason: tokenRefused(A).message },
          { url: B, clusterId: undefined, code: ErrorCode.Unauthorized, reason: tokenRefused(B).message },
        ],
      },
    });
    expect(exitCodeOf(refused)).toBe(ExitCode.Unauthorized);
  });

  it.each([
    [
      'an unreachable orchestrator over refused tokens (exit 3)',
      [tokenRefused(A), unreachable(B), tokenRefused(C)],
      ErrorCode.Unavailable,
      ExitCode.Unreachable,
    ],
    [
      'one that does not accept joins over a refused token (exit 3)',
      [noJoins(A), tokenRefused(B)],
      ErrorCode.Unavailable,
      ExitCode.Unreachable,
    ],
    [
      'a protocol refusal, which means the token was right (exit 1)',
      [unreachable(A), otherProtocol(B), tokenRefused(C)],
      ErrorCode.UnsupportedVersion,
      ExitCode.Failed,
    ],
  ])('when all refuse, the one closest to accepting decides the code: %s', async (_name, errors, code, exitCode) => {
    const urls = [A, B, C].slice(0, errors.length);
    const { join } = lan(Object.fromEntries(urls.map((url, index) => [url, errors[index] as KrakenError])));

    const refused = await joinFirstAccepting({
      candidates: urls.map((url) => candidate(url)),
      join,
      logger: new MemoryLogger(),
    }).catch((error: unknown) => error);

    expect(refused).toMatchObject({
      code,
      message: expect.stringMatching(
        new RegExp(`^none of the ${String(errors.length)} orchestrators found accepted this agent; `),
      ) as unknown,
    });
    expect(exitCodeOf(refused)).toBe(exitCode);
  });

  it("throws the only candidate's own error when there is one (an explicit --join URL)", async () => {
    const refusal = tokenRefused(A);
    const { join } = lan({ [A]: refusal });

    await expect(
      joinFirstAccepting({ candidates: [candidate(A, undefined, 'join')], join, logger: new MemoryLogger() }),
    ).rejects.toBe(refusal);
  });

  it('stops at once when this agent itself is at fault, since every orchestrator would refuse it alike', async () => {
    const noToken = new KrakenError(ErrorCode.InvalidConfig, `joining ${A} needs the cluster's join token: give --join-token`);
    const { join, tried } = lan({ [A]: noToken, [B]: grantOf('cluster-b') });

    await expect(joinFirstAccepting({ candidates: [candidate(A), candidate(B)], join, logger: new MemoryLogger() })).rejects.toBe(
      noToken,
    );
    expect(tried).toEqual([A]);
  });

  it('skips another address of a cluster that refused the token, but tries one of a cluster that was unreachable', async () => {
    const A2 = 'http://10.0.0.12:4000';
    const B2 = 'http://10.0.0.13:4000';
    const { join, tried } = lan({
      [A]: tokenRefused(A),
      [B]: unreachable(B),
      [A2]: tokenRefused(A2),
      [B2]: grantOf('cluster-b'),
    });
    const logger = new MemoryLogger();

    const joined = await joinFirstAccepting({
      candidates: [candidate(A, 'cluster-a'), candidate(B, 'cluster-b'), candidate(A2, 'cluster-a'), candidate(B2, 'cluster-b')],
      join,
      logger,
    });

    expect(joined.candidate.url).toBe(B2);
    expect(tried).toEqual([A, B, B2]);
    expect(logger.records.map((record) => record.message)).toContain(
      `not trying the orchestrator at ${A2}: its cluster already refused this agent`,
    );
  });

  it("counts anything else a join throws as that orchestrator's refusal and tries the next", async () => {
    const { join } = lan({ [B]: grantOf('cluster-b') }); // A throws a plain Error

    await expect(
      joinFirstAccepting({ candidates: [candidate(A), candidate(B)], join, logger: new MemoryLogger() }),
    ).resolves.toMatchObject({
      candidate: { url: B },
      refusals: [{ candidate: { url: A }, error: { code: ErrorCode.Internal } }],
    });
  });
});
