import { desktopAlertsOf, newestNotifications, notificationLevel, notificationTarget, notificationTitle } from './notification-text.js';

describe('notification text', () => {
  it('heads each kind in words, and an unknown kind as a notice', () => {
    expect(notificationTitle({ kind: 'deploy-failed' })).toBe('Deploy failed');
    expect(notificationTitle({ kind: 'app-moved' })).toBe('App moved');
    expect(notificationTitle({ kind: 'node-dead' })).toBe('Node down');
    expect(notificationTitle({ kind: 'disk-full' })).toBe('Cluster notice');
  });

  it('makes failures errors and moves warnings', () => {
    expect(notificationLevel({ kind: 'deploy-failed' })).toBe('error');
    expect(notificationLevel({ kind: 'node-dead' })).toBe('error');
    expect(notificationLevel({ kind: 'app-moved' })).toBe('warning');
    expect(notificationLevel({ kind: 'disk-full' })).toBe('info');
  });

  it('leads to the deployment, or to the nodes when there is none', () => {
    expect(notificationTarget({ deploymentId: 'blog/1 x' })).toBe('/deployments/blog%2F1%20x');
    expect(notificationTarget({ deploymentId: null })).toBe('/nodes');
  });

  it('reads the browser permission as the control shows it', () => {
    expect(desktopAlertsOf(undefined)).toBe('unsupported');
    expect(desktopAlertsOf('default')).toBe('ask');
    expect(desktopAlertsOf('granted')).toBe('on');
    expect(desktopAlertsOf('denied')).toBe('blocked');
  });

  it('keeps a notification the subscription brought while the first request was on its way, newest first, each once', () => {
    const at = (id: string, time: number) => ({ id, time });
    // the request's answer was read before n3 was raised; the subscription already delivered n3
    const answered = [at('n2', 20), at('n1', 10)];
    const live = [at('n3', 30)];
    expect(newestNotifications(answered, live, 20).map((n) => n.id)).toEqual(['n3', 'n2', 'n1']);
    expect(newestNotifications([at('n3', 30)], [at('n3', 30), at('n2', 20)], 20).map((n) => n.id)).toEqual(['n3', 'n2']);
    expect(newestNotifications(answered, live, 2).map((n) => n.id)).toEqual(['n3', 'n2']);
  });
});
