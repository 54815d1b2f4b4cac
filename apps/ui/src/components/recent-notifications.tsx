import { useEffect } from 'react';
import { Alert, Card, List, Tag, Typography } from 'antd';
import { NotificationRaisedDocument, NotificationsDocument } from '../api/generated.js';
import { subscribe } from '../api/live.js';
import type { ClusterNotification } from '../api/types.js';
import { useQuery } from '../api/use-query.js';
import { formatAge } from '../format.js';
import { newestNotifications, notificationLevel, notificationTarget, notificationTitle } from '../notification-text.js';
import { Link } from '../router.js';
import { useCluster } from '../store.js';
import { useNow } from './use-now.js';

const SHOWN = 20;
const tagColor = { error: 'red', warning: 'orange', info: 'blue' } as const;

/** The leader's last notifications, newest first, kept current by the live subscription. */
export function RecentNotifications() {
  const { live, reloads } = useCluster();
  const {
    data: items,
    setData: setItems,
    error,
  } = useQuery(
    NotificationsDocument,
    { limit: SHOWN },
    {
      select: ({ notifications }, current: ClusterNotification[] | undefined) => newestNotifications(notifications, current ?? [], SHOWN),
      deps: [reloads],
    },
  );
  const now = useNow(10_000);

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
      {error !== undefined && <Alert type="error" showIcon title={`Cannot load the notifications: ${error.message}`} />}
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
