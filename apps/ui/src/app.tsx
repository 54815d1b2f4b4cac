import { useState } from 'react';
import { Alert, Badge, Button, Layout, Menu, Space, Typography } from 'antd';
import { AppstoreOutlined, BookOutlined, ClusterOutlined, DashboardOutlined, KeyOutlined } from '@ant-design/icons';
import type { LiveState } from './api/live.js';
import { DeploymentPage } from './pages/deployment-page.js';
import { DeploymentsPage } from './pages/deployments-page.js';
import { GettingStartedPage } from './pages/getting-started-page.js';
import { NodesPage } from './pages/nodes-page.js';
import { PlatformPage } from './pages/platform-page.js';
import { TokenModal } from './components/token-modal.js';
import { navigate, usePath } from './router.js';
import { useCluster } from './store.js';

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

function Page({ path }: { path: string }) {
  const detail = /^\/deployments\/([^/]+)$/.exec(path);
  if (detail?.[1] !== undefined) return <DeploymentPage id={decodeURIComponent(detail[1])} />;
  switch (path) {
    case '/':
      return <PlatformPage />;
    case '/nodes':
      return <NodesPage />;
    case '/deployments':
      return <DeploymentsPage />;
    case '/getting-started':
      return <GettingStartedPage />;
    default:
      return <Alert type="warning" showIcon title={`No page at ${path}`} />;
  }
}

export function KrakenApp() {
  const path = usePath();
  const { token, setToken, liveState, error } = useCluster();
  const [changingToken, setChangingToken] = useState(false);
  const selected = path.startsWith('/deployments') ? '/deployments' : path;
  const badge = liveBadge[liveState];

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="md" collapsedWidth={0} theme="light">
        <Typography.Title level={4} style={{ padding: '16px 24px', margin: 0 }}>
          Kraken
        </Typography.Title>
        <nav aria-label="Pages">
          <Menu
            mode="inline"
            selectedKeys={[selected]}
            items={menu}
            onClick={({ key }) => {
              navigate(key);
            }}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', display: 'flex', justifyContent: 'flex-end', paddingInline: 16 }}>
          <Space>
            {token !== undefined && <Badge status={badge.status} text={badge.text} />}
            <Button
              icon={<KeyOutlined />}
              onClick={() => {
                setChangingToken(true);
              }}
            >
              API token
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 16 }}>
          {token === undefined && (
            <Alert type="info" showIcon title="Enter the API token to see the cluster." style={{ marginBottom: 16 }} />
          )}
          {error !== undefined && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="cluster-error" />}
          <main>
            <Page path={path} />
          </main>
        </Layout.Content>
      </Layout>
      <TokenModal
        open={token === undefined || changingToken}
        onSave={(value) => {
          setToken(value);
          setChangingToken(false);
        }}
        onCancel={
          token === undefined
            ? undefined
            : () => {
                setChangingToken(false);
              }
        }
      />
    </Layout>
  );
}
