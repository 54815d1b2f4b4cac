import { useEffect, useState } from 'react';
import { Alert, Card, List, Tag, Typography } from 'antd';
import { NotificationRaisedDocument, NotificationsDocument } from '../api/generated.js';
import { subscribe } from '../api/live.js';
import type { ClusterNotification } from '../api/types.js';
import { formatAge } from '../format.js';
import { newestNotifications, notificationLevel, notificationTarget, notificationTitle } from '../notification-text.js';
import { Link } from '../router.js';
import { useCluster } from '../store.js';
import { useNow } from './use-now.js';

const SHOWN = 20;
const tagColor = { error: 'red', warning: 'orange', info: 'blue' } as const;

/** The leader's last notifications, newest first, kept current by the live subscription. */
export function RecentNotifications() {
  const { request, live, reloads } = useCluster();
  const [items, setItems] = useState<ClusterNotification[]>();
  const [error, setError] = useState<string>();
  const now = useNow(10_000);

  useEffect(() => {
    let stale = false;
    request(NotificationsDocument, { limit: SHOWN })
      .then((data) => {
        if (!stale) setItems((current) => newestNotifications(data.notifications, current ?? [], SHOWN));
      })
      .catch((failure: unknown) => {
        if (!stale) setError((failure as Error).message);
      });
    return () => {
      stale = true;
    };
  }, [request, reloads]);

  useEffect(() => {
    if (live === undefined) return;
    return subscribe(
      live,
      NotificationRaisedDocument,
      {},
      ({ notificationRaised: raised }) => {
        setItems((list) => newestNotifications([raised], list ?? [], SHOWN));
      },
      () => undefined,
    );
  }, [live]);

  return (
    <Card title="Recent notifications" data-testid="recent-notifications">
      {error !== undefined && <Alert type="error" showIcon title={`Cannot load the notifications: ${error}`} />}
      <List
        size="small"
        loading={items === undefined && error === undefined}
        locale={{ emptyText: 'No failed deploys, moved apps or dead nodes since the orchestrator started.' }}
        dataSource={items ?? []}
        renderItem={(n) => (
          <List.Item>
            <span>
              <Tag color={tagColor[notificationLevel(n)]}>{notificationTitle(n)}</Tag>
              <Link to={notificationTarget(n)}>{n.message}</Link>
            </span>
            <Typography.Text type="secondary" style={{ whiteSpace: 'nowrap' }}>
              {formatAge(now - n.time)} ago
            </Typography.Text>
          </List.Item>
        )}
      />
    </Card>
  );
}
