import { ErrorCode, KrakenError, MemoryLogger } from '@kraken/common';
import { guardDeploy } from './deploy-guard.js';
import { PreparesInFlight } from './prepare-guard.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('guardDeploy', () => {
  it('refuses a second deploy of a deployment while the first runs, as a Conflict, and allows it after', async () => {
    const inFlight = new Set<string>();
    const logger = new MemoryLogger();
    const gate = deferred();
    const first = guardDeploy(inFlight, 'd1', logger, () => gate.promise);

    await expect(guardDeploy(inFlight, 'd1', logger, () => Promise.resolve())).rejects.toMatchObject({ code: ErrorCode.Conflict, deploymentId: 'd1' });
    await expect(guardDeploy(inFlight, 'd2', logger, () => Promise.resolve('other'))).resolves.toBe('other');
    gate.resolve();
    await first;
    await expect(guardDeploy(inFlight, 'd1', logger, () => Promise.resolve('again'))).resolves.toBe('again');
  });

  it('names the deployment in an error that does not, and logs the failure', async () => {
    const logger = new MemoryLogger();
    const failure = guardDeploy(new Set(), 'd1', logger, () => Promise.reject(new KrakenError(ErrorCode.Unavailable, 'engine busy')));

    await expect(failure).rejects.toMatchObject({ code: ErrorCode.Unavailable, deploymentId: 'd1', message: 'engine busy' });
    expect(logger.records.map((record) => record.message)).toContain('deploy failed');
  });
});

describe('PreparesInFlight', () => {
  it('runs one failover build per deployment at a time, a second being a Conflict', async () => {
    const prepares = new PreparesInFlight();
    const gate = deferred();
    const first = prepares.run('d1', () => gate.promise);

    await expect(prepares.run('d1', () => Promise.resolve())).rejects.toMatchObject({ code: ErrorCode.Conflict, deploymentId: 'd1' });
    await expect(prepares.run('d2', () => Promise.resolve('other'))).resolves.toBe('other');
    gate.resolve();
    await first;
    await expect(prepares.run('d1', () => Promise.resolve('again'))).resolves.toBe('again');
  });

  it('lets a deploy wait for the failover build of its deployment to settle, even a failed one', async () => {
    const prepares = new PreparesInFlight();
    const gate = deferred();
    let ended = false;
    const build = prepares.run('d1', async () => {
      await gate.promise;
      ended = true;
      throw new KrakenError(ErrorCode.Internal, 'build failed');
    });
    const waited = prepares.settled('d1').then(() => ended);

    gate.resolve();
    await expect(build).rejects.toMatchObject({ message: 'build failed' });
    await expect(waited).resolves.toBe(true);
    await expect(prepares.settled('d2')).resolves.toBeUndefined();
  });
});
