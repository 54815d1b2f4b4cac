import { MessageType } from '@kraken/messages';
import type { FailoverBuild } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import type { Harness } from '../test/harness.js';
import { request, startHarness } from '../test/harness.js';

const SHA = 'c'.repeat(40);
const prepare = (deploymentId: string, extra: { commit?: string; runtime?: 'docker' | 'process' } = {}) => ({
  deploymentId,
  srcUrl: 'https://git.home.lan/alice/app.git',
  branch: 'main',
  commit: SHA,
  ...extra,
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(): Promise<Harness> {
  h = await startHarness({ options: { heartbeatInterval: 20 } });
  return h;
}

/** Resolves a promise from outside, to hold a fake build or deploy where the test wants it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

function lastReported(harnessed: Harness): FailoverBuild[] | undefined {
  return harnessed.heartbeats().at(-1)?.failoverBuilds;
}

describe('Worker: failover builds (deploy.prepare)', () => {
  it('reports a failover build as building, then ready, in its heartbeats', async () => {
    const harnessed = await harness();
    const held = gate();
    harnessed.deployer.prepareScripts.set('app-1', { gate: held.promise });

    await harnessed.send(MessageType.DeployPrepare, prepare('app-1'));
    await eventuallyPasses(() => { expect(lastReported(harnessed)).toEqual([{ deploymentId: 'app-1', commit: SHA, state: 'building' }]); }, 3_000, 5);
    expect(harnessed.deployer.prepareCalls).toEqual([{ deploymentId: 'app-1', url: 'https://git.home.lan/alice/app.git', branch: 'main', commit: SHA }]);

    held.open();
    await eventuallyPasses(() => { expect(lastReported(harnessed)).toEqual([{ deploymentId: 'app-1', commit: SHA, state: 'ready' }]); }, 3_000, 5);
  });

  it('reports a failed build with its reason and goes on deploying', async () => {
    const harnessed = await harness();
    harnessed.deployer.prepareScripts.set('app-1', { error: 'image build failed: npm ERR! missing script' });

    await harnessed.send(MessageType.DeployPrepare, prepare('app-1'));
    await eventuallyPasses(() => {
      expect(lastReported(harnessed)).toEqual([{ deploymentId: 'app-1', commit: SHA, state: 'failed', message: 'image build failed: npm ERR! missing script' }]);
    }, 3_000, 5);

    await harnessed.send(MessageType.DeployRequest, request('app-2'));
    await eventuallyPasses(() => { expect(harnessed.statusesOf('app-2').at(-1)).toBe('Running'); }, 3_000, 5);
  });

  it('refuses a failover build for another runtime', async () => {
    const harnessed = await harness();
    await harnessed.send(MessageType.DeployPrepare, prepare('app-1', { runtime: 'process' }));
    await eventuallyPasses(() => {
      expect(lastReported(harnessed)).toEqual([{ deploymentId: 'app-1', commit: SHA, state: 'failed', message: 'worker n1 runs applications in docker only, not process' }]);
    }, 3_000, 5);
    expect(harnessed.deployer.prepareCalls).toEqual([]);
  });

  it('with failover builds off: its heartbeats list none, a request builds nothing, and a forget still frees what it kept', async () => {
    h = await startHarness({ options: { heartbeatInterval: 20, failoverBuilds: false } });
    const harnessed = h;
    await eventuallyPasses(() => { expect(harnessed.heartbeats().length).toBeGreaterThanOrEqual(1); }, 3_000, 5);
    // no list at all: the orchestrator reads that as a node that makes none, and asks another
    expect(harnessed.heartbeats().at(-1)).not.toHaveProperty('failoverBuilds');

    await harnessed.send(MessageType.DeployPrepare, prepare('app-1'));
    await harnessed.send(MessageType.DeployPrepare, { deploymentId: 'app-2', forget: true });
    await eventuallyPasses(() => { expect(harnessed.deployer.forgetCalls).toEqual(['app-2']); }, 3_000, 5);
    expect(harnessed.deployer.prepareCalls).toEqual([]);
    expect(harnessed.heartbeats().at(-1)).not.toHaveProperty('failoverBuilds');
  });

  it('forgets a failover build: the entry goes and the runtime frees what it keeps', async () => {
    const harnessed = await harness();
    await harnessed.send(MessageType.DeployPrepare, prepare('app-1'));
    await eventuallyPasses(() => { expect(lastReported(harnessed)?.[0]?.state).toBe('ready'); }, 3_000, 5);

    await harnessed.send(MessageType.DeployPrepare, { deploymentId: 'app-1', forget: true });
    await eventuallyPasses(() => { expect(harnessed.deployer.forgetCalls).toEqual(['app-1']); }, 3_000, 5);
    await eventuallyPasses(() => { expect(lastReported(harnessed)).toEqual([]); }, 3_000, 5);
    expect(harnessed.deployer.kept.has('app-1')).toBe(false);
  });

  it('ignores a failover build, and a forget, of a deployment that runs here', async () => {
    const harnessed = await harness();
    await harnessed.send(MessageType.DeployRequest, request('app-1'));
    await eventuallyPasses(() => { expect(harnessed.statusesOf('app-1').at(-1)).toBe('Running'); }, 3_000, 5);

    await harnessed.send(MessageType.DeployPrepare, prepare('app-1'));
    await harnessed.send(MessageType.DeployPrepare, { deploymentId: 'app-1', forget: true });
    // a later command, handled after them: once it is seen, they were
    await harnessed.send(MessageType.DeployPrepare, prepare('app-2'));
    await eventuallyPasses(() => { expect(lastReported(harnessed)?.map((entry) => entry.deploymentId)).toEqual(['app-2']); }, 3_000, 5);
    expect(harnessed.deployer.prepareCalls.map((call) => call.deploymentId)).toEqual(['app-2']);
    expect(harnessed.deployer.forgetCalls).toEqual([]);
  });

  it('lets a real deploy go first: a failover build waits while a deploy holds a slot, and a deploy never waits for one', async () => {
    const harnessed = await harness();
    const deployHeld = gate();
    harnessed.deployer.scripts.set('deploying', { holdIn: { step: 'build', until: deployHeld.promise } });
    await harnessed.send(MessageType.DeployRequest, request('deploying'));
    await eventuallyPasses(() => { expect(harnessed.deployer.building).toBe(1); }, 3_000, 5);

    await harnessed.send(MessageType.DeployPrepare, prepare('standby'));
    await eventuallyPasses(() => { expect(lastReported(harnessed)).toEqual([{ deploymentId: 'standby', commit: SHA, state: 'building' }]); }, 3_000, 5);
    expect(harnessed.deployer.prepareCalls).toEqual([]);

    deployHeld.open();
    await eventuallyPasses(() => { expect(harnessed.deployer.prepareCalls.map((call) => call.deploymentId)).toEqual(['standby']); }, 3_000, 5);
    await eventuallyPasses(() => { expect(lastReported(harnessed)?.[0]?.state).toBe('ready'); }, 3_000, 5);

    // a failover build in flight takes no slot
    const buildHeld = gate();
    harnessed.deployer.prepareScripts.set('standby-2', { gate: buildHeld.promise });
    await harnessed.send(MessageType.DeployPrepare, prepare('standby-2'));
    await eventuallyPasses(() => { expect(harnessed.deployer.preparing).toBe(1); }, 3_000, 5);
    await harnessed.send(MessageType.DeployRequest, request('urgent'));
    await eventuallyPasses(() => { expect(harnessed.statusesOf('urgent').at(-1)).toBe('Running'); }, 3_000, 5);
    expect(harnessed.statusesOf('urgent')).not.toContain('Errored');
    expect(harnessed.deployer.preparing).toBe(1);
    buildHeld.open();
  });

  it('drops the entry when the deployment itself is sent here, which then runs from the kept build', async () => {
    const harnessed = await harness();
    await harnessed.send(MessageType.DeployPrepare, prepare('moving'));
    await eventuallyPasses(() => { expect(lastReported(harnessed)?.[0]?.state).toBe('ready'); }, 3_000, 5);

    harnessed.deployer.scripts.set('moving', { kept: true });
    await harnessed.send(MessageType.DeployRequest, request('moving', { commit: SHA, fromKept: true }));
    await eventuallyPasses(() => { expect(harnessed.statusesOf('moving').at(-1)).toBe('Running'); }, 3_000, 5);
    await eventuallyPasses(() => {
      expect(lastReported(harnessed)).toEqual([]);
      expect(harnessed.heartbeats().at(-1)?.deployments).toEqual(['moving']);
    }, 3_000, 5);
    expect(harnessed.deployer.deployCalls.at(-1)).toMatchObject({ deploymentId: 'moving', commit: SHA, fromKept: true });
    // what the move uses stays kept: it is the running deployment's now
    expect(harnessed.deployer.forgetCalls).toEqual([]);
  });
});
