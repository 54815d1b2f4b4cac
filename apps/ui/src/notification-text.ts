import type { ClusterNotification } from './api/types.js';

/** A notification's headline, as the page and the browser show it. */
export function notificationTitle(notification: Pick<ClusterNotification, 'kind'>): string {
  switch (notification.kind) {
    case 'deploy-failed':
      return 'Deploy failed';
    case 'app-moved':
      return 'App moved';
    case 'node-dead':
      return 'Node down';
    default:
      // a newer orchestrator may raise kinds this page does not know yet: still worth showing
      return 'Cluster notice';
  }
}

/** How loud a notification is: a failure needs someone; a move the cluster made by itself is a warning. */
export function notificationLevel(notification: Pick<ClusterNotification, 'kind'>): 'error' | 'warning' | 'info' {
  if (notification.kind === 'deploy-failed' || notification.kind === 'node-dead') return 'error';
  if (notification.kind === 'app-moved') return 'warning';
  return 'info';
}

/** Where a notification leads: its deployment's page, else the node list. */
export function notificationTarget(notification: Pick<ClusterNotification, 'deploymentId'>): string {
  return notification.deploymentId === null ? '/nodes' : `/deployments/${encodeURIComponent(notification.deploymentId)}`;
}

export type DesktopAlerts = 'unsupported' | 'ask' | 'on' | 'blocked';

/** What the browser allows for desktop alerts (Notification.permission), in the page's terms. */
export function desktopAlertsOf(permission: NotificationPermission | undefined): DesktopAlerts {
  if (permission === undefined) return 'unsupported';
  if (permission === 'granted') return 'on';
  return permission === 'denied' ? 'blocked' : 'ask';
}

/**
 * The newest `limit` of two lists of notifications, by time, each once. The page's first request
 * and the live subscription race: a notification raised while the request is on its way arrives
 * by the subscription first, and the request's older answer must not drop it.
 */
export function newestNotifications<T extends Pick<ClusterNotification, 'id' | 'time'>>(a: readonly T[], b: readonly T[], limit: number): T[] {
  const byId = new Map<string, T>();
  for (const notification of [...a, ...b]) byId.set(notification.id, notification);
  return [...byId.values()].sort((x, y) => y.time - x.time).slice(0, limit);
}
