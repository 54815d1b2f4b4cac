import { useCallback, useEffect, useState } from 'react';
import { App, Button, Tooltip } from 'antd';
import { BellOutlined } from '@ant-design/icons';
import { NotificationRaisedDocument } from '../api/generated.js';
import { subscribe } from '../api/live.js';
import type { ClusterNotification } from '../api/types.js';
import type { DesktopAlerts } from '../notification-text.js';
import { desktopAlertsOf, notificationLevel, notificationTarget, notificationTitle } from '../notification-text.js';
import { navigate } from '../router.js';
import { useCluster } from '../store.js';

function browserPermission(): NotificationPermission | undefined {
  return 'Notification' in window ? Notification.permission : undefined;
}

/** Where the page is not looked at, the browser's own notification (only with the user's permission). */
function showOnDesktop(notification: ClusterNotification): void {
  if (!document.hidden || browserPermission() !== 'granted') return;
  const shown = new Notification(`Kraken: ${notificationTitle(notification)}`, {
    body: notification.message,
    tag: notification.id,
  });
  shown.onclick = () => {
    window.focus();
    navigate(notificationTarget(notification));
    shown.close();
  };
}

/**
 * Raises each notification the orchestrator sends while the page is open: an Ant Design
 * notification in the page, and a desktop one when the page is in the background. Renders nothing.
 */
export function LiveNotifications() {
  const { live } = useCluster();
  const { notification: toast } = App.useApp();

  useEffect(() => {
    if (live === undefined) return;
    return subscribe(
      live,
      NotificationRaisedDocument,
      {},
      ({ notificationRaised: raised }) => {
        const level = notificationLevel(raised);
        toast.open({
          key: raised.id,
          type: level,
          title: notificationTitle(raised),
          description: raised.message,
          // a failure waits for someone to read it; a move the cluster handled goes by itself
          duration: level === 'error' ? false : 10,
          role: level === 'error' ? 'alert' : 'status',
          // top right is where the header's controls are; a failure left open must not cover them
          placement: 'bottomRight',
          actions: (
            <Button
              size="small"
              onClick={() => {
                navigate(notificationTarget(raised));
                toast.destroy(raised.id);
              }}
            >
              {raised.deploymentId === null ? 'Open nodes' : 'Open deployment'}
            </Button>
          ),
          props: { 'data-testid': `notification-${raised.kind}` },
        });
        showOnDesktop(raised);
      },
      // the cluster's own subscriptions report a broken connection; saying it twice helps no one
      () => undefined,
    );
  }, [live, toast]);

  return null;
}

const alertsLabel: Record<Exclude<DesktopAlerts, 'unsupported'>, { text: string; tip: string }> = {
  ask: {
    text: 'Desktop alerts',
    tip: 'Also show notifications on the desktop while this page is in the background (the browser asks first)',
  },
  on: {
    text: 'Desktop alerts on',
    tip: 'Notifications show on the desktop while this page is in the background; turn them off in the browser’s site settings',
  },
  blocked: {
    text: 'Desktop alerts blocked',
    tip: 'The browser blocks notifications for this site; allow them in its site settings',
  },
};

/** Asks the browser for permission to notify, only when the user presses it (never on load). */
export function DesktopAlertsButton({ iconOnly }: { iconOnly: boolean }) {
  const [state, setState] = useState<DesktopAlerts>(() => desktopAlertsOf(browserPermission()));
  const ask = useCallback(() => {
    void Notification.requestPermission().then((permission) => {
      setState(desktopAlertsOf(permission));
    });
  }, []);
  if (state === 'unsupported') return null;
  const label = alertsLabel[state];
  return (
    <Tooltip title={label.tip}>
      <Button
        icon={<BellOutlined />}
        aria-label={iconOnly ? label.text : undefined}
        aria-pressed={state === 'on'}
        disabled={state !== 'ask'}
        onClick={ask}
        data-testid="desktop-alerts"
      >
        {iconOnly ? undefined : label.text}
      </Button>
    </Tooltip>
  );
}
