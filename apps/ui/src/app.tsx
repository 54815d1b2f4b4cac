import { Suspense, lazy, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { Alert, Badge, Button, Drawer, Grid, Layout, Menu, Skeleton, Space, Typography, theme } from 'antd';
import { AppstoreOutlined, BookOutlined, ClusterOutlined, DashboardOutlined, KeyOutlined, MenuOutlined } from '@ant-design/icons';
import type { LiveState } from './api/live.js';
import { DesktopAlertsButton, LiveNotifications } from './components/live-notifications.js';
import { TokenModal } from './components/token-modal.js';
import { useNow } from './components/use-now.js';
import { offlineText } from './honest.js';
import { leaderMoveMessage } from './format.js';
import { navigate, usePath } from './router.js';
import { useCluster } from './store.js';

// one chunk per page: the first screen loads only the code it shows
const PlatformPage = lazy(() => import('./pages/platform-page.js').then((m) => ({ default: m.PlatformPage })));
const NodesPage = lazy(() => import('./pages/nodes-page.js').then((m) => ({ default: m.NodesPage })));
const DeploymentsPage = lazy(() => import('./pages/deployments-page.js').then((m) => ({ default: m.DeploymentsPage })));
const DeploymentPage = lazy(() => import('./pages/deployment-page.js').then((m) => ({ default: m.DeploymentPage })));
const GettingStartedPage = lazy(() => import('./pages/getting-started-page.js').then((m) => ({ default: m.GettingStartedPage })));

const menu = [
  { key: '/', icon: <DashboardOutlined />, label: 'Platform' },
  { key: '/nodes', icon: <ClusterOutlined />, label: 'Nodes' },
  { key: '/deployments', icon: <AppstoreOutlined />, label: 'Deployments' },
  { key: '/getting-started', icon: <BookOutlined />, label: 'Getting started' },
];

const liveBadge: Record<LiveState, { status: 'success' | 'processing' | 'warning' | 'error'; text: string }> = {
  connecting: { status: 'processing', text: 'connecting' },
  connected: { status: 'success', text: 'live' },
  reconnecting: { status: 'warning', text: 'reconnecting' },
  refused: { status: 'error', text: 'token refused' },
};

function pageOf(path: string): { title: string; element: ReactNode } {
  const detail = /^\/deployments\/([^/]+)$/.exec(path);
  if (detail?.[1] !== undefined) {
    const id = decodeURIComponent(detail[1]);
    return { title: id, element: <DeploymentPage id={id} /> };
  }
  switch (path) {
    case '/':
      return { title: 'Platform', element: <PlatformPage /> };
    case '/nodes':
      return { title: 'Nodes', element: <NodesPage /> };
    case '/deployments':
      return { title: 'Deployments', element: <DeploymentsPage /> };
    case '/getting-started':
      return { title: 'Getting started', element: <GettingStartedPage /> };
    default:
      return { title: 'Not found', element: <Alert type="warning" showIcon title={`No page at ${path}`} /> };
  }
}

/** Says since when the API is gone; mounted only then, so its clock ticks only then. */
function OfflineNotice({ since }: { since: number }) {
  const now = useNow();
  return (
    <Alert
      type="warning"
      showIcon
      title={offlineText(since, now * 1000)}
      style={{ marginBottom: 16 }}
      data-testid="api-offline"
    />
  );
}

function PageLoading() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading the page">
      <Skeleton active paragraph={{ rows: 6 }} />
    </div>
  );
}

function Navigation({ selected, onNavigate }: { selected: string; onNavigate?: () => void }) {
  return (
    <nav aria-label="Pages">
      <Menu
        mode="inline"
        selectedKeys={[selected]}
        items={menu}
        onClick={({ key }) => {
          navigate(key);
          onNavigate?.();
        }}
      />
    </nav>
  );
}

export function KrakenApp() {
  const path = usePath();
  const { token, setToken, liveState, offlineSince, tokenRefused, error, loaded, reload, leaderMove, dismissLeaderMove } =
    useCluster();
  const { token: design } = theme.useToken();
  const [changingToken, setChangingToken] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const screens = Grid.useBreakpoint();
  // before the first measurement every breakpoint is unknown: lay out for a laptop until then
  const narrow = screens.md === false;
  const selected = path.startsWith('/deployments') ? '/deployments' : path;
  const badge = liveBadge[liveState];
  const page = pageOf(path);

  useEffect(() => {
    document.title = `${page.title} · Kraken`;
  }, [page.title]);

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {!narrow && (
        <Layout.Sider theme="light" width={200}>
          <Typography.Title level={4} style={{ padding: '16px 24px', margin: 0 }}>
            Kraken
          </Typography.Title>
          <Navigation selected={selected} />
        </Layout.Sider>
      )}
      {narrow && (
        <Drawer
          title="Kraken"
          placement="left"
          size={240}
          open={menuOpen}
          onClose={() => {
            setMenuOpen(false);
          }}
          styles={{ body: { padding: 0 } }}
        >
          <Navigation
            selected={selected}
            onNavigate={() => {
              setMenuOpen(false);
            }}
          />
        </Drawer>
      )}
      <Layout>
        <Layout.Header
          style={{ background: design.colorBgContainer, display: 'flex', alignItems: 'center', gap: 8, paddingInline: 16 }}
        >
          {narrow && (
            <>
              <Button
                icon={<MenuOutlined />}
                aria-label="Open the menu"
                aria-expanded={menuOpen}
                onClick={() => {
                  setMenuOpen(true);
                }}
              />
              <Typography.Text strong style={{ whiteSpace: 'nowrap' }}>
                Kraken
              </Typography.Text>
            </>
          )}
          <Space style={{ marginLeft: 'auto' }}>
            {token !== undefined && <Badge status={badge.status} text={badge.text} data-testid="live-state" style={{ whiteSpace: 'nowrap' }} />}
            {token !== undefined && <DesktopAlertsButton iconOnly={narrow} />}
            {/* on a phone its words would push the connection state out of the header */}
            <Button
              icon={<KeyOutlined />}
              aria-label={narrow ? 'API token' : undefined}
              title={narrow ? 'API token' : undefined}
              onClick={() => {
                setChangingToken(true);
              }}
            >
              {narrow ? undefined : 'API token'}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: narrow ? 8 : 16, minWidth: 0 }}>
          {offlineSince !== undefined && <OfflineNotice since={offlineSince} />}
          {loaded && error !== undefined && !tokenRefused && (
            <Alert
              type="error"
              showIcon
              title={error}
              style={{ marginBottom: 16 }}
              data-testid="cluster-error"
              action={
                <Button size="small" onClick={reload}>
                  Retry
                </Button>
              }
            />
          )}
          {leaderMove !== undefined && (
            <Alert
              type="info"
              showIcon
              closable={{ onClose: dismissLeaderMove }}
              title={leaderMoveMessage(leaderMove)}
              style={{ marginBottom: 16 }}
              data-testid="leader-moved"
            />
          )}
          <main>
            <Suspense fallback={<PageLoading />}>{page.element}</Suspense>
          </main>
        </Layout.Content>
      </Layout>
      <LiveNotifications />
      <TokenModal
        open={token === undefined || changingToken || tokenRefused}
        refused={tokenRefused}
        onSave={(value) => {
          setToken(value);
          setChangingToken(false);
        }}
        onCancel={
          token === undefined || tokenRefused
            ? undefined
            : () => {
                setChangingToken(false);
              }
        }
      />
    </Layout>
  );
}
