import type { Notification } from './notification.js';
import { NotificationKind, appMoved, deployFailed, nodeDead } from './notification.js';
import { NotificationFeed } from './notification-feed.js';
import type { DeploymentRecord, NodeRecord } from '../store/records.js';

const clock = { now: () => Date.parse('2026-12-06T12:00:00.000Z') };

function draft(n: number) {
  return { kind: NotificationKind.NodeDead, message: `node-${String(n)} is dead`, nodeId: `node-${String(n)}` };
}

function deployment(patch: Partial<DeploymentRecord>): DeploymentRecord {
  return { id: 'blog-1a2b', name: 'blog', nodeId: 'node-a', statusMessage: null, ...patch } as DeploymentRecord;
}

describe('NotificationFeed', () => {
  it('stamps each notification with an id and the clock time and announces it', () => {
    const feed = new NotificationFeed({ clock });
    const heard: Notification[] = [];
    feed.on('raised', (notification) => heard.push(notification));
    const raised = feed.raise(draft(1));
    expect(raised).toMatchObject({ ...draft(1), at: '2026-12-06T12:00:00.000Z' });
    expect(raised.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(heard).toEqual([raised]);
    expect(feed.raise(draft(1)).id).not.toBe(raised.id);
  });

  it('keeps only the newest notifications, newest first', () => {
    const feed = new NotificationFeed({ keep: 3, clock });
    for (let n = 1; n <= 5; n++) feed.raise(draft(n));
    expect(feed.recent().map((n) => n.nodeId)).toEqual(['node-5', 'node-4', 'node-3']);
    expect(feed.recent(2).map((n) => n.nodeId)).toEqual(['node-5', 'node-4']);
    expect(feed.recent(0)).toEqual([]);
  });

  it('hides credentials a reason quotes', () => {
    const feed = new NotificationFeed({ clock });
    const raised = feed.raise(
      deployFailed(deployment({ statusMessage: 'git clone https://x-access-token:ghp_secret@github.com/a/b failed' })),
    );
    expect(raised.message).not.toContain('ghp_secret');
    expect(raised.message).toContain('https://x-access-token:***@github.com/a/b');
  });

  it('refuses a bound that keeps nothing', () => {
    expect(() => new NotificationFeed({ keep: 0 })).toThrow('keep: expected a positive integer, got 0');
  });
});

describe('notification drafts', () => {
  it('says which deploy failed, where and why', () => {
    expect(deployFailed(deployment({ statusMessage: 'npm test exited with code 1' }))).toEqual({
      kind: 'deploy-failed',
      message: 'Deploy of blog (blog-1a2b) failed on node-a: npm test exited with code 1',
      deploymentId: 'blog-1a2b',
      nodeId: 'node-a',
    });
  });

  it('says where a moved app went, or that it waits for a node', () => {
    expect(appMoved(deployment({ nodeId: 'node-b' }), 'node-a', 'node-a sent no heartbeat for 12.0 s')).toEqual({
      kind: 'app-moved',
      message: 'blog (blog-1a2b) moved from node-a to node-b: node-a sent no heartbeat for 12.0 s',
      deploymentId: 'blog-1a2b',
      nodeId: 'node-a',
      toNodeId: 'node-b',
    });
    expect(appMoved(deployment({ nodeId: null }), 'node-a', 'it died').message).toBe(
      'blog (blog-1a2b) left node-a and waits for a node that can run it: it died',
    );
  });

  it('names a dead node by id and host name', () => {
    const node = { id: 'node-a', info: { hostname: 'pi-kitchen' } } as NodeRecord;
    expect(nodeDead(node, 'node-a sent no heartbeat for 12.0 s')).toEqual({
      kind: 'node-dead',
      message: 'Node node-a (pi-kitchen) is dead: node-a sent no heartbeat for 12.0 s',
      nodeId: 'node-a',
    });
  });
});
