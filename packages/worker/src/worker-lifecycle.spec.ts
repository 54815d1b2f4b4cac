import { MessageType } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import type { Harness } from '../test/harness.js';
import { request, startHarness } from '../test/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function running(): Promise<Harness> {
  h = await startHarness();
  await h.send(MessageType.DeployRequest, request('app-1'));
  const { statusesOf } = h;
  await eventuallyPasses(() => { expect(statusesOf('app-1').at(-1)).toBe('Running'); }, 3_000, 5);
  return h;
}

async function lastStatus(harness: Harness, status: string): Promise<void> {
  await eventuallyPasses(() => { expect(harness.statusesOf('app-1').at(-1)).toBe(status); }, 3_000, 5);
}

function systemLines(harness: Harness): string[] {
  return harness.logs('app-1').flatMap((batch) => batch.lines).filter((line) => line.stream === 'system').map((line) => line.text);
}

describe('Worker: stop, start and restart without a rebuild', () => {
  it('stops a running app, reports Stopped and leaves it out of heartbeats, then starts it again with no deploy', async () => {
    const harness = await running();
    await harness.send(MessageType.DeployLifecycle, { deploymentId: 'app-1', action: 'stop', attempt: 1 });
    await lastStatus(harness, 'Stopped');
    expect(harness.statuses.at(-1)).toMatchObject({ attempt: 1 });
    expect(harness.statuses.at(-1)?.message).toMatch(/^stopped on n1 \(stop requested\); its container and image are kept for a start without a build$/);
    expect(harness.worker.deployments()).toEqual([]);
    expect(harness.deployer.containers.get('app-1')?.state).toBe('exited');

    await harness.send(MessageType.DeployLifecycle, { deploymentId: 'app-1', action: 'start', attempt: 1 });
    await lastStatus(harness, 'Running');
    expect(harness.statuses.at(-1)).toMatchObject({ message: 'started without a build', port: 20_001, attempt: 1 });
    expect(harness.deployer.deployCalls).toHaveLength(1);
    expect(harness.deployer.lifecycleCalls).toEqual(['stop app-1', 'start app-1']);
    expect(harness.worker.deployments()).toEqual([{ deploymentId: 'app-1', status: 'Running' }]);
  });

  it('restarts a running app in place (stop, then start) and says so in its log', async () => {
    const harness = await running();
    await harness.send(MessageType.DeployLifecycle, { deploymentId: 'app-1', action: 'restart', reason: 'restarted by the user' });
    await eventuallyPasses(() => { expect(harness.deployer.lifecycleCalls).toEqual(['stop app-1', 'start app-1']); }, 3_000, 5);
    // the fake records the start when it is called; the status follows once it returned
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)).toMatchObject({ status: 'Running', message: 'restarted without a build' }); }, 3_000, 5);
    await eventuallyPasses(() => { expect(systemLines(harness)).toContain('restarting on n1 without a build (restarted by the user)'); }, 3_000, 5);
    expect(harness.deployer.deployCalls).toHaveLength(1);
  });

  it('does not count a requested stop, or the start after it, as a crash', async () => {
    const harness = await running();
    await harness.send(MessageType.DeployLifecycle, { deploymentId: 'app-1', action: 'restart' });
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)).toMatchObject({ status: 'Running', message: 'restarted without a build' }); }, 3_000, 5);
    expect(harness.deployer.lifecycleCalls).toHaveLength(2);
    // the runtime reports the stop's exit and the start, as Docker's events do, after the worker moved on
    const before = Date.now() - 10;
    harness.deployer.emitRun({ kind: 'exit', deploymentId: 'app-1', at: new Date(before), code: 143 });
    harness.deployer.emitRun({ kind: 'start', deploymentId: 'app-1', at: new Date(before + 1) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(harness.statuses.at(-1)).toMatchObject({ status: 'Running', restarts: { count: 0, looping: false } });
  });

  it('reports a start that fails as Stopped with the reason, and answers a start of a running app with its status', async () => {
    const harness = await running();
    await harness.send(MessageType.DeployLifecycle, { deploymentId: 'app-1', action: 'start' });
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)?.message).toBe('already running on n1'); }, 3_000, 5);
    expect(harness.deployer.lifecycleCalls).toEqual([]);

    await harness.send(MessageType.DeployLifecycle, { deploymentId: 'app-1', action: 'stop' });
    await lastStatus(harness, 'Stopped');
    harness.deployer.failNextStart = 'app exited right after it was started again';
    await harness.send(MessageType.DeployLifecycle, { deploymentId: 'app-1', action: 'start' });
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)?.message).toBe('could not start it: app exited right after it was started again'); }, 3_000, 5);
    expect(harness.statusesOf('app-1').at(-1)).toBe('Stopped');
    expect(harness.worker.deployments()).toEqual([]);
  });
});
