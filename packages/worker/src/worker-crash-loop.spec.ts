import { ErrorCode, KrakenError } from '@kraken/common';
import { MessageType } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import { FakeDeployer } from '../test/fake-deployer.js';
import type { Harness } from '../test/harness.js';
import { request, startHarness } from '../test/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function running(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness(options);
  await h.send(MessageType.DeployRequest, request('app-1'));
  const { statusesOf } = h;
  await eventuallyPasses(() => { expect(statusesOf('app-1').at(-1)).toBe('Running'); }, 3_000, 5);
  return h;
}

function crash(harness: Harness, startsAgain = true): void {
  const at = Date.now();
  harness.deployer.emitRun({ kind: 'exit', deploymentId: 'app-1', at: new Date(at), code: 1 });
  if (startsAgain) harness.deployer.emitRun({ kind: 'start', deploymentId: 'app-1', at: new Date(at + 100) });
}

describe('Worker: crash loops', () => {
  it('reports a fresh Running deployment with no restarts', async () => {
    const { statuses } = await running();
    expect(statuses.at(-1)?.restarts).toEqual({ count: 0, looping: false });
  });

  it('reports each exit and restart the runtime makes as Running, crash-looping, with the count and last exit', async () => {
    const harness = await running();
    crash(harness);
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)?.restarts?.count).toBe(1); }, 3_000, 5);
    const [exited, restarted] = harness.statuses.slice(-2);
    expect(exited).toMatchObject({ status: 'Running', restarts: { count: 0, looping: true, lastExit: { code: 1 } } });
    expect(exited?.message).toMatch(/^crash-looping: the app exited with code 1 after \d+\.\d s; restarting it \(0 restarts so far\)$/);
    expect(restarted).toMatchObject({ status: 'Running', port: 20_001, restarts: { count: 1, looping: true } });
    await eventuallyPasses(() => { expect(harness.logs('app-1').flatMap((batch) => batch.lines).some((line) => line.stream === 'system' && line.text.startsWith('crash-looping'))).toBe(true); }, 3_000, 5);
  });

  it('stops an app after crashLoopRestarts failed restarts and reports Errored with the reason and its restarts', async () => {
    const harness = await running({ options: { crashLoopRestarts: 2 } });
    crash(harness);
    crash(harness);
    crash(harness, false);
    await eventuallyPasses(() => { expect(harness.statusesOf('app-1').at(-1)).toBe('Errored'); }, 3_000, 5);
    const errored = harness.statuses.at(-1);
    expect(errored).toMatchObject({ errorCode: 'CRASH_LOOP', restarts: { count: 2, looping: true, lastExit: { code: 1 } } });
    expect(errored?.message).toMatch(/^crash loop: the app exited with code 1 after .*, and 2 restarts in a row ended the same way before it ran 60 s; stopped it$/);
    expect(harness.deployer.stopCalls).toEqual(['app-1']);
    expect(harness.worker.deployments()).toEqual([]);
  });

  it('says a crash-looping app recovered once it ran crashLoopSteadyAfter', async () => {
    const harness = await running({ options: { crashLoopSteadyAfter: 50 } });
    crash(harness);
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)?.restarts).toMatchObject({ count: 1, looping: false }); }, 3_000, 5);
    expect(harness.statuses.at(-1)?.message).toMatch(/^running steadily again for .* after 1 restart$/);
  });

  it('ignores an exit from before the deployment ran (a container the deploy replaced)', async () => {
    const harness = await running();
    const before = harness.statuses.length;
    harness.deployer.emitRun({ kind: 'exit', deploymentId: 'app-1', at: new Date(Date.now() - 60_000), code: 137 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(harness.statuses.length).toBe(before);
  });

  it('ignores exits of an app it is destroying', async () => {
    const harness = await running();
    await harness.send(MessageType.DeployStop, { deploymentId: 'app-1' });
    await eventuallyPasses(() => { expect(harness.statusesOf('app-1').at(-1)).toBe('Destroyed'); }, 3_000, 5);
    const before = harness.statuses.length;
    crash(harness);
    await new Promise((resolve) => setImmediate(resolve));
    expect(harness.statuses.length).toBe(before);
  });

  it('reports a runtime whose restarts cannot be watched once, and watches once it can', async () => {
    const deployer = new FakeDeployer();
    let refusals = 2;
    const watchRuns = deployer.watchRuns.bind(deployer);
    deployer.watchRuns = (listener) => (refusals-- > 0 ? Promise.reject(new KrakenError(ErrorCode.Unavailable, 'engine down')) : watchRuns(listener));
    const harness = await running({ deployer, options: { logRefollowDelay: 10 } });
    await eventuallyPasses(() => { expect(refusals).toBeLessThan(0); }, 3_000, 5);
    expect(harness.worker.stats().failures).toBe(1);
    crash(harness);
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)?.restarts?.count).toBe(1); }, 3_000, 5);
  });

  it('refuses a crashLoopRestarts that is not a positive integer', async () => {
    await expect(startHarness({ options: { crashLoopRestarts: 0 } })).rejects.toThrow('worker option crashLoopRestarts must be an integer from 1 to 1000, got 0');
  });
});
