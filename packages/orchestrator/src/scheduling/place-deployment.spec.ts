import type { DeploymentStatus } from '@kraken/messages';
import { DeploymentStatus as Status } from '@kraken/messages';
import { nodeInfo } from '../../test/fixtures.js';
import type { NodeShape } from '../../test/fixtures.js';
import type { NodeState } from '../store/records.js';
import type { PlacementRequest, ScheduledDeployment, SchedulableNode } from './place-deployment.js';
import { placeDeployment } from './place-deployment.js';

function node(id: string, shape: NodeShape = {}, state: NodeState = 'alive'): SchedulableNode {
  return { id, state, info: nodeInfo(id, shape) };
}

function deployment(
  id: string,
  nodeId: string,
  status: DeploymentStatus = Status.Running,
  memoryMb: number | null = null,
): ScheduledDeployment {
  return { id, nodeId, status, memoryMb };
}

function place(nodes: SchedulableNode[], deployments: ScheduledDeployment[] = [], request: PlacementRequest = {}) {
  return placeDeployment({ nodes, deployments, request });
}

function placedOn(nodes: SchedulableNode[], deployments: ScheduledDeployment[] = [], request: PlacementRequest = {}): string {
  const result = place(nodes, deployments, request);
  if (!result.ok) throw result.error;
  return result.value.nodeId;
}

describe('placeDeployment', () => {
  it('places on the node with the most free RAM and explains why', () => {
    const result = place(
      [node('node-a', { freeMb: 410, cores: 2, load: 1.5 }), node('node-b', { freeMb: 3174, load: 0.2 })],
      [deployment('x', 'node-b'), deployment('y', 'node-a'), deployment('z', 'node-a')],
    );
    expect(result).toEqual({
      ok: true,
      value: {
        nodeId: 'node-b',
        reason:
          'node-b: most headroom (3.1 GB free RAM, load 0.2 on 4 cores, 1 deployment); node-a has 410 MB free RAM, load 1.5 on 2 cores, 2 deployments',
      },
    });
  });

  it('prefers a lightly loaded node when free RAM is equal', () => {
    expect(placedOn([node('node-a', { load: 3.8, cores: 4 }), node('node-b', { load: 0.1, cores: 4 })])).toBe('node-b');
  });

  it('judges load relative to cores', () => {
    expect(placedOn([node('node-a', { load: 2, cores: 2 }), node('node-b', { load: 2, cores: 8 })])).toBe('node-b');
  });

  it('spreads ties: fewest deployments first', () => {
    const nodes = [node('node-a'), node('node-b'), node('node-c')];
    expect(placedOn(nodes, [deployment('x', 'node-a'), deployment('y', 'node-b')])).toBe('node-c');
  });

  it('breaks a full tie by node id, so the choice is stable', () => {
    expect(placedOn([node('node-c'), node('node-a'), node('node-b')])).toBe('node-a');
  });

  it('fills identical nodes evenly as deployments are placed one after another', () => {
    const nodes = [node('node-a'), node('node-b')];
    const deployments: ScheduledDeployment[] = [];
    for (let i = 0; i < 4; i++)
      deployments.push(deployment(`app-${i}`, placedOn(nodes, deployments), Status.DelegatingDeployment));
    expect(deployments.map((d) => d.nodeId)).toEqual(['node-a', 'node-b', 'node-a', 'node-b']);
  });

  it('counts RAM reserved by deployments that are starting but not yet running', () => {
    const nodes = [node('node-a', { freeMb: 2000 }), node('node-b', { freeMb: 1500 })];
    expect(placedOn(nodes, [deployment('x', 'node-a', Status.BuildingDeployment, 1000)])).toBe('node-b');
    // a running app already shows in the node's free RAM: not counted twice
    expect(placedOn(nodes, [deployment('x', 'node-a', Status.Running, 1000)])).toBe('node-a');
  });

  it('ignores destroyed and errored deployments', () => {
    const nodes = [node('node-a'), node('node-b')];
    expect(
      placedOn(nodes, [
        deployment('x', 'node-a', Status.Destroyed),
        deployment('y', 'node-a', Status.Errored),
        deployment('z', 'node-b'),
      ]),
    ).toBe('node-a');
  });

  it('never places on suspect or dead nodes, however roomy', () => {
    const nodes = [
      node('node-a', { freeMb: 16000 }, 'suspect'),
      node('node-b', { freeMb: 16000 }, 'dead'),
      node('node-c', { freeMb: 600 }),
    ];
    const result = place(nodes);
    expect(result.ok && result.value.nodeId).toBe('node-c');
    expect(result.ok && result.value.reason).toBe(
      'node-c: the only node that can run it (600 MB free RAM, load 0.2 on 4 cores, 0 deployments); node-a is suspect (missed heartbeats); node-b is dead',
    );
  });

  it('filters by runtime: docker by default, process when asked', () => {
    const nodes = [node('node-a', { runtimes: ['process'], freeMb: 8000 }), node('node-b', { runtimes: ['docker'] })];
    expect(placedOn(nodes)).toBe('node-b');
    expect(placedOn(nodes, [], { runtime: 'process' })).toBe('node-a');
  });

  it('treats a node whose Docker engine is not answering as unable to run docker apps', () => {
    const nodes = [node('node-a', { freeMb: 8000, dockerHealthy: false, runtimes: ['docker', 'process'] }), node('node-b')];
    expect(placedOn(nodes)).toBe('node-b');
    expect(placedOn(nodes, [], { runtime: 'process' })).toBe('node-a');
  });

  it('filters by free RAM against what the app needs', () => {
    const nodes = [node('node-a', { freeMb: 300 }), node('node-b', { freeMb: 900, load: 3.9 })];
    expect(placedOn(nodes, [], { memoryMb: 512 })).toBe('node-b');
  });

  it('skips excluded nodes (the one a deployment moves away from)', () => {
    expect(placedOn([node('node-a', { freeMb: 8000 }), node('node-b')], [], { excludeNodeIds: ['node-a'] })).toBe('node-b');
  });

  it('prefers the node holding a ready build of it (its failover node) over headroom, saying so', () => {
    const nodes = [node('node-a', { freeMb: 8000, load: 0.1 }), node('node-b', { freeMb: 900, load: 1.5 })];
    const result = place(nodes, [], { preferNodeId: 'node-b' });
    expect(result.ok && result.value.nodeId).toBe('node-b');
    expect(result.ok && result.value.reason).toMatch(/^node-b: holds a ready build of it \(its failover node\) \(900 MB free RAM.*; node-a has 7\.8 GB free RAM/);
  });

  it('does not prefer a failover node that cannot run it now', () => {
    const nodes = [node('node-a'), node('node-b', {}, 'suspect')];
    expect(placedOn(nodes, [], { preferNodeId: 'node-b' })).toBe('node-a');
    expect(placedOn([node('node-a'), node('node-b', { freeMb: 100 })], [], { preferNodeId: 'node-b', memoryMb: 512 })).toBe('node-a');
  });

  it('explains why no node can run it', () => {
    const nodes = [
      node('node-a', {}, 'suspect'),
      node('node-b', { runtimes: ['process'] }),
      node('node-c', { freeMb: 100 }),
      node('node-d', { dockerHealthy: false }),
    ];
    const result = place(nodes, [], { memoryMb: 512 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toBe(
      'no node can run it (docker, 512 MB): node-a is suspect (missed heartbeats); node-b has no docker runtime; ' +
        'node-c has 100 MB free, needs 512 MB; node-d cannot run docker apps now (its Docker engine is not answering)',
    );
    expect(!result.ok && result.error.code).toBe('UNAVAILABLE');
  });

  it('says when no node has reported in at all', () => {
    const result = place([]);
    expect(!result.ok && result.error.message).toBe('no node can run it (docker, 256 MB): no nodes have reported in');
  });

  describe('an app with a memory limit', () => {
    const enforcing = { runsAs: 'agent', user: 'kraken-app', limits: true } as const;
    const unbounded = { runsAs: 'agent', limits: false } as const;
    const limited = { runtime: 'process', memoryMb: 256, limited: true } as const;

    it('goes to a node that enforces limits, before one with more headroom that does not', () => {
      const nodes = [node('node-a', { runtimes: ['process'], freeMb: 8000, isolation: unbounded }), node('node-b', { runtimes: ['process'], freeMb: 1000, isolation: enforcing })];
      const result = place(nodes, [], limited);
      expect(result.ok && result.value.reason).toMatch(/^node-b: most headroom of the nodes that enforce its memory limit \(/);
      // without a limit, headroom decides
      expect(placedOn(nodes, [], { runtime: 'process', memoryMb: 256 })).toBe('node-a');
    });

    it('still runs where no node enforces limits, and says that its limit does not hold there', () => {
      const result = place([node('node-a', { runtimes: ['process'], isolation: unbounded }), node('node-b', { runtimes: ['process'] })], [], limited);
      expect(result.ok && result.value.reason).toMatch(/^node-a: most headroom \(.*\); its memory limit is not enforced there/);
    });

    it('takes its failover node only when that one enforces limits too, or none does', () => {
      const nodes = [node('node-a', { runtimes: ['process'], isolation: enforcing }), node('node-b', { runtimes: ['process'], isolation: unbounded })];
      expect(placedOn(nodes, [], { ...limited, preferNodeId: 'node-b' })).toBe('node-a');
      expect(placedOn([node('node-a', { runtimes: ['process'], isolation: unbounded }), node('node-b', { runtimes: ['process'], isolation: unbounded })], [], { ...limited, preferNodeId: 'node-b' })).toBe('node-b');
    });
  });
});
