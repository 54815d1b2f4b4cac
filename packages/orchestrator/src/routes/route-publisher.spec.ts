import { MemoryBroker } from '@kraken/broker';
import { eventually } from '@kraken/testing';
import type { MessageOf, MessageType } from '@kraken/messages';
import { DeploymentStatus } from '@kraken/messages';
import { deploymentRecord } from '../../test/fixtures.js';
import type { DeploymentRecord } from '../store/records.js';
import { ROUTES_TOPIC, RoutePublisher, routesOf } from './route-publisher.js';

function deployment(patch: Partial<DeploymentRecord>): DeploymentRecord {
  return deploymentRecord({ port: 20001, nodeId: 'n2', runtime: 'process', url: 'http://10.0.0.2:20001', name: 'hello', ...patch });
}

describe('routesOf', () => {
  it('routes a running deployment to the address its node reported, and names the others with their status only', () => {
    expect(
      routesOf([
        deployment({}),
        deployment({ id: 'blog-1', name: 'blog', status: DeploymentStatus.BuildingDeployment, url: null }),
        // moving after its node died: the old address must not be used
        deployment({ id: 'moved-1', name: 'moved', status: DeploymentStatus.DelegatingDeployment, url: 'http://10.0.0.9:20003' }),
        deployment({ id: 'gone-1', name: 'gone', status: DeploymentStatus.Destroyed }),
        deployment({ id: 'adopted_X', name: null }),
      ]),
    ).toEqual([
      { name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: 'http://10.0.0.2:20001' },
      { name: 'blog', deploymentId: 'blog-1', status: 'BuildingDeployment' },
      { name: 'moved', deploymentId: 'moved-1', status: 'DelegatingDeployment' },
    ]);
  });

  it('gives a running deployment its node reports unready no upstream, saying why, and routes it again once ready', () => {
    const reason = 'not answering on port 20001 for 15 s (3 checks)';
    expect(routesOf([deployment({ readiness: { ready: false, since: '2026-12-07T03:00:05.000Z', reason } })])).toEqual([
      { name: 'hello', deploymentId: 'hello-1', status: 'Running', notAnswering: reason },
    ]);
    expect(routesOf([deployment({ readiness: { ready: false, since: '2026-12-07T03:00:05.000Z' } })])[0]).not.toHaveProperty('upstream');
    expect(routesOf([deployment({ readiness: { ready: true, since: '2026-12-07T03:00:20.000Z' } })])).toEqual([
      { name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: 'http://10.0.0.2:20001' },
    ]);
  });
});

describe('RoutePublisher', () => {
  let broker: MemoryBroker;
  let publisher: RoutePublisher | undefined;
  let tables: MessageOf<typeof MessageType.IngressRoutes>[];

  beforeEach(async () => {
    broker = new MemoryBroker();
    tables = [];
    await broker.subscribe(ROUTES_TOPIC, ({ message }) => {
      if (message.type === 'ingress.routes') tables.push(message);
    });
  });

  afterEach(async () => {
    publisher?.stop();
    await broker.close();
  });

  it('sends the table at once with its term, then again only when a change alters it (seq +1)', async () => {
    let deployments = [deployment({ status: DeploymentStatus.Deploying, url: null })];
    publisher = RoutePublisher.start({ broker, nodeId: 'leader', epoch: 3, deployments: () => deployments, intervalMs: 60_000 });
    await eventually(() => tables.length === 1, 5_000, 'a table', 5);
    expect(tables[0]?.epoch).toBe(3);
    expect(tables[0]?.body).toEqual({ seq: 0, routes: [{ name: 'hello', deploymentId: 'hello-1', status: 'Deploying' }] });

    // a stats update changes nothing the ingress needs: nothing is sent
    publisher.changed();
    deployments = [deployment({ status: DeploymentStatus.Running })];
    publisher.changed();
    publisher.changed();
    await eventually(() => tables.length === 2, 5_000, 'a table', 5);
    expect(tables[1]?.body).toEqual({ seq: 1, routes: [{ name: 'hello', deploymentId: 'hello-1', status: 'Running', upstream: 'http://10.0.0.2:20001' }] });
    publisher.changed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(tables).toHaveLength(2);
  });

  it('repeats the unchanged table every interval, for agents that start later', async () => {
    publisher = RoutePublisher.start({ broker, nodeId: 'leader', epoch: 1, deployments: () => [deployment({})], intervalMs: 20 });
    await eventually(() => tables.length >= 3, 5_000, 'a table', 5);
    expect(new Set(tables.map((table) => table.body.seq))).toEqual(new Set([0]));
  });

  it('says nothing once it no longer holds the lease', async () => {
    let holds = true;
    publisher = RoutePublisher.start({ broker, nodeId: 'leader', epoch: 1, deployments: () => [deployment({})], intervalMs: 20, mayAct: () => holds });
    await eventually(() => tables.length >= 1, 5_000, 'a table', 5);
    holds = false;
    await new Promise((resolve) => setTimeout(resolve, 30));
    const count = tables.length;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(tables).toHaveLength(count);
  });
});
