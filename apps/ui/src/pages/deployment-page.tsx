import { Alert, Card, Descriptions, Result, Space, Spin, Timeline, Typography } from 'antd';
import type { Deployment } from '../api/types.js';
import { DeploymentActions } from '../components/deployment-actions.js';
import { LogView } from '../components/log-view.js';
import { StatusTag } from '../components/status-tag.js';
import { statusColor, statusLabel } from '../format.js';
import { Link } from '../router.js';
import { useCluster } from '../store.js';

function History({ deployment }: { deployment: Deployment }) {
  return (
    <Timeline
      items={deployment.statusHistory.map((item, index) => ({
        key: `${String(index)}-${item.status}`,
        color: statusColor(item.status) === 'processing' ? 'blue' : statusColor(item.status) === 'default' ? 'gray' : statusColor(item.status),
        content: (
          <>
            <strong>{statusLabel(item.status)}</strong>{' '}
            <Typography.Text type="secondary">
              {new Date(item.time * 1000).toLocaleTimeString()}
              {item.node === null ? '' : ` · ${item.node}`}
            </Typography.Text>
            {item.message !== null && item.message !== '' && <div>{item.message}</div>}
          </>
        ),
      }))}
    />
  );
}

export function DeploymentPage({ id }: { id: string }) {
  const { deployments, loading, error } = useCluster();
  const deployment = deployments.find((d) => d.id === id);
  if (deployment === undefined) {
    if (loading) return <Spin aria-label="Loading" />;
    return (
      <Result
        status="404"
        title="No such deployment"
        subTitle={error ?? `There is no deployment ${id}.`}
        extra={<Link to="/deployments">All deployments</Link>}
      />
    );
  }
  const url = deployment.status === 'RUNNING' ? deployment.deploymentUrl : null;
  return (
    <>
      <Space align="center" wrap style={{ marginBottom: 16 }}>
        <Typography.Title level={2} style={{ margin: 0 }}>
          {deployment.id}
        </Typography.Title>
        <span data-testid="deployment-status">
          <StatusTag status={deployment.status} />
        </span>
        <DeploymentActions deployment={deployment} />
      </Space>
      {deployment.status === 'ERRORED' && (
        <Alert type="error" showIcon title="Deployment failed" description={deployment.statusMessage ?? 'no reason given'} style={{ marginBottom: 16 }} data-testid="error-reason" />
      )}
      <Card style={{ marginBottom: 16 }}>
        <Descriptions column={{ xs: 1, md: 2 }} size="small">
          <Descriptions.Item label="App">
            {url === null ? '—' : (
              <a href={url} target="_blank" rel="noreferrer" aria-label="Open the app">
                {url}
              </a>
            )}
          </Descriptions.Item>
          <Descriptions.Item label="Source">{deployment.srcUrl}</Descriptions.Item>
          <Descriptions.Item label="Branch">
            {deployment.gitBranch}
            {deployment.watch ? ' (watched)' : ''}
          </Descriptions.Item>
          <Descriptions.Item label="Commit">{deployment.commit ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="Node">{deployment.node ?? 'waiting for a node'}</Descriptions.Item>
          <Descriptions.Item label="Placement">{deployment.placementReason ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="Memory">
            {deployment.memMb === null ? '—' : `${String(deployment.memMb)} MB${deployment.maxMemMb === null ? '' : ` of ${String(deployment.maxMemMb)} MB`}`}
          </Descriptions.Item>
          <Descriptions.Item label="CPU">{deployment.cpuUsage === null ? '—' : `${deployment.cpuUsage.toFixed(1)}%`}</Descriptions.Item>
          <Descriptions.Item label="Environment">{deployment.env.length === 0 ? '—' : deployment.env.map((e) => e.name).join(', ')}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title="Status history" style={{ marginBottom: 16 }}>
        <History deployment={deployment} />
      </Card>
      <Card title="Log">
        <LogView deploymentId={deployment.id} />
      </Card>
    </>
  );
}
