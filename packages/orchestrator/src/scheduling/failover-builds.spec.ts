import type { FailoverBuild } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';
import type { NodeState } from '../store/records.js';
import type { FailoverCandidate, FailoverNode, FailoverPlanInput } from './failover-builds.js';
import { FailoverBuilds } from './failover-builds.js';

const SHA = 'a'.repeat(40);
const NEXT = 'b'.repeat(40);
const ASK_AGAIN_MS = 60_000;

function app(patch: Partial<FailoverCandidate> = {}): FailoverCandidate {
  return { id: 'web', nodeId: 'node-a', status: Status.Running, commit: SHA, buildable: true, ...patch };
}

function nodes(...entries: [string, NodeState?][]): FailoverNode[] {
  return entries.map(([id, state]) => ({ id, state: state ?? 'alive' }));
}

function build(state: FailoverBuild['state'], patch: Partial<FailoverBuild> = {}): FailoverBuild {
  return { deploymentId: 'web', commit: SHA, state, ...patch };
}

/** Placement stand-in: the first node not excluded, in id order. */
function firstFree(all: readonly FailoverNode[]): FailoverPlanInput['choose'] {
  return (_deployment, exclude) => all.find((node) => node.state === 'alive' && !exclude.includes(node.id))?.id;
}

function plan(builds: FailoverBuilds, input: { now?: number; deployments?: FailoverCandidate[]; nodes: FailoverNode[] }) {
  return builds.plan({ now: input.now ?? 0, deployments: input.deployments ?? [app()], nodes: input.nodes, choose: firstFree(input.nodes) });
}

describe('FailoverBuilds', () => {
  it('asks one other live node for a build of a running deployment, once, and again only after the wait', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    const cluster = nodes(['node-a'], ['node-b'], ['node-c']);
    for (const node of cluster) builds.report(node.id, []);
    expect(plan(builds, { nodes: cluster })).toEqual([{ kind: 'prepare', nodeId: 'node-b', deploymentId: 'web', commit: SHA }]);
    expect(builds.view(app(), cluster)).toEqual({ nodeId: 'node-b', commit: SHA, state: 'asked' });
    expect(plan(builds, { nodes: cluster, now: ASK_AGAIN_MS - 1 })).toEqual([]);
    expect(plan(builds, { nodes: cluster, now: ASK_AGAIN_MS })).toEqual([{ kind: 'prepare', nodeId: 'node-b', deploymentId: 'web', commit: SHA }]);
  });

  it('waits until every live node has reported, so a leader that took over does not ask again for builds that exist', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    const cluster = nodes(['node-a'], ['node-b'], ['node-c', 'dead']);
    builds.report('node-a', []);
    expect(plan(builds, { nodes: cluster })).toEqual([]);
    builds.report('node-b', [build('ready')]);
    expect(plan(builds, { nodes: cluster })).toEqual([]);
    expect(builds.view(app(), cluster)).toEqual({ nodeId: 'node-b', commit: SHA, state: 'ready' });
    expect(builds.readyHolder(app(), cluster, 'node-a')).toBe('node-b');
  });

  it('asks for nothing for a deployment that is not running, has no commit yet, or whose source is unknown', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    const cluster = nodes(['node-a'], ['node-b']);
    for (const node of cluster) builds.report(node.id, []);
    const idle = [app({ status: Status.BuildingDeployment }), app({ id: 'pinless', commit: null }), app({ id: 'adopted', buildable: false }), app({ id: 'stopped', status: Status.Stopped })];
    expect(plan(builds, { nodes: cluster, deployments: idle })).toEqual([]);
  });

  it('never asks a node that runs an older agent (no failoverBuilds in its heartbeat)', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    const cluster = nodes(['node-a'], ['node-b'], ['node-c']);
    builds.report('node-a', []);
    builds.report('node-b', undefined);
    builds.report('node-c', []);
    expect(plan(builds, { nodes: cluster })).toEqual([{ kind: 'prepare', nodeId: 'node-c', deploymentId: 'web', commit: SHA }]);
  });

  it('asks another node when one failed the build, shows the failure until then, and never asks the failed one again', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    const cluster = nodes(['node-a'], ['node-b'], ['node-c']);
    for (const node of cluster) builds.report(node.id, []);
    plan(builds, { nodes: cluster });
    builds.report('node-b', [build('failed', { message: 'the build failed: exit 1' })]);
    expect(plan(builds, { nodes: cluster, now: 1 })).toEqual([{ kind: 'prepare', nodeId: 'node-c', deploymentId: 'web', commit: SHA }]);
    expect(builds.view(app(), cluster)).toEqual({ nodeId: 'node-c', commit: SHA, state: 'asked' });
    builds.report('node-c', [build('failed', { message: 'no space left' })]);
    expect(plan(builds, { nodes: cluster, now: 2 })).toEqual([]);
    expect(builds.view(app(), cluster)).toMatchObject({ state: 'failed' });
  });

  it('asks again when the node asked died, and when the deployment moved onto the node that held its build', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    let cluster = nodes(['node-a'], ['node-b'], ['node-c']);
    for (const node of cluster) builds.report(node.id, []);
    plan(builds, { nodes: cluster });
    cluster = nodes(['node-a'], ['node-b', 'dead'], ['node-c']);
    expect(plan(builds, { nodes: cluster, now: 1 })).toEqual([{ kind: 'prepare', nodeId: 'node-c', deploymentId: 'web', commit: SHA }]);
    // node-a died and the app moved to node-c, which held the build: node-b (alive again) is asked
    builds.report('node-c', [build('ready')]);
    cluster = nodes(['node-a', 'dead'], ['node-b'], ['node-c']);
    expect(plan(builds, { nodes: cluster, now: 2, deployments: [app({ nodeId: 'node-c' })] })).toEqual([
      { kind: 'prepare', nodeId: 'node-b', deploymentId: 'web', commit: SHA },
    ]);
  });

  it('tells nodes to forget builds of deployments that are gone, and of an old commit once the new one is ready elsewhere, without repeating itself', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    const cluster = nodes(['node-a'], ['node-b'], ['node-c']);
    builds.report('node-a', []);
    builds.report('node-b', [build('ready'), build('ready', { deploymentId: 'gone' })]);
    builds.report('node-c', [build('ready', { commit: NEXT })]);
    const redeployed = [app({ commit: NEXT }), app({ id: 'gone', status: Status.Destroyed })];
    expect(plan(builds, { nodes: cluster, deployments: redeployed })).toEqual([
      { kind: 'forget', nodeId: 'node-b', deploymentId: 'web' },
      { kind: 'forget', nodeId: 'node-b', deploymentId: 'gone' },
    ]);
    expect(plan(builds, { nodes: cluster, deployments: redeployed, now: 1 })).toEqual([]);
    builds.report('node-b', []);
    expect(plan(builds, { nodes: cluster, deployments: redeployed, now: 2 })).toEqual([]);
  });

  it('matches a full sha with its abbreviation', () => {
    const builds = new FailoverBuilds(ASK_AGAIN_MS);
    const cluster = nodes(['node-a'], ['node-b']);
    builds.report('node-a', []);
    builds.report('node-b', [build('ready', { commit: SHA.slice(0, 12) })]);
    expect(builds.holdsReady('node-b', 'web', SHA)).toBe(true);
    expect(plan(builds, { nodes: cluster })).toEqual([]);
  });
});
