import { useEffect } from 'react';
import { Alert, Button, Card, Descriptions, Result, Skeleton, Space, Tabs, Typography } from 'antd';
import { DeploymentDocument } from '../api/generated.js';
import { ApiError } from '../api/graphql-request.js';
import { useQuery } from '../api/use-query.js';
import type { Deployment } from '../api/types.js';
import { ClusterGate } from '../components/cluster-gate.js';
import { DeploymentActions } from '../components/deployment-actions.js';
import { LifecycleActions } from '../components/lifecycle-actions.js';
import { DeploymentStats } from '../components/deployment-stats.js';
import { LogView } from '../components/log-view.js';
import { MultilineText } from '../components/multiline-text.js';
import { ReleasesPanel } from '../components/releases-panel.js';
import { StatusTimeline } from '../components/status-timeline.js';
import { StatusTag } from '../components/status-tag.js';
import { WatchSwitch } from '../components/watch-switch.js';
import { EnvEditor } from '../components/env-editor.js';
import { FailoverText } from '../components/failover-text.js';
import { restartsSummary, statusLabel } from '../format.js';
import { hasLiveNumbers, memoryText } from '../honest.js';
import { Link, navigate } from '../router.js';
import { useCluster } from '../store.js';

/**
 * A deployment the list does not hold yet (just created: the page can open before its first
 * event arrives) is asked for once; only the API's NOT_FOUND makes it a 404.
 */
function useMissingDeployment(id: string, missing: boolean): { notFound: boolean; removed: Deployment | undefined; error: string | undefined; retry: () => void } {
  const { applyDeployment } = useCluster();
  const query = useQuery(DeploymentDocument, { deploymentId: id }, { select: ({ getDeployment }) => getDeployment, skip: !missing });
  const { data: found, loading, retry } = query;
  useEffect(() => {
    if (found?.removedAt === null) applyDeployment(found);
  }, [found, applyDeployment]);
  // while asked (again), what an earlier answer said is not shown
  const error = loading ? undefined : query.error;
  const notFound = error instanceof ApiError && error.code === 'NOT_FOUND';
  return {
    notFound,
    // one removed: no longer listed, but readable by id (with its log) until its retention ends
    removed: loading || found?.removedAt === null ? undefined : found,
    error: notFound ? undefined : error?.message,
    retry,
  };
}

function DeploymentDetail({ id }: { id: string }) {
  const { deployments } = useCluster();
  const deployment = deployments.find((d) => d.id === id);
  const missing = useMissingDeployment(id, deployment === undefined);
  if (deployment === undefined) {
    if (missing.error !== undefined) {
      return (
        <Result
          status="error"
          title={`Cannot load deployment ${id}`}
          subTitle={missing.error}
          extra={
            <Button type="primary" onClick={missing.retry}>
              Retry
            </Button>
          }
        />
      );
    }
    if (missing.removed !== undefined) return <RemovedDeployment deployment={missing.removed} />;
    if (!missing.notFound) return <Skeleton active aria-label={`Loading deployment ${id}`} />;
    return (
      <Result
        status="404"
        title="No such deployment"
        subTitle={`There is no deployment ${id} in this cluster.`}
        extra={<Link to="/deployments">All deployments</Link>}
      />
    );
  }
  const url = deployment.status === 'RUNNING' ? deployment.deploymentUrl : null;
  const live = hasLiveNumbers(deployment.status);
  return (
    <>
      <Space align="center" wrap style={{ marginBottom: 16 }}>
        <Typography.Title level={2} style={{ margin: 0, wordBreak: 'break-all' }}>
          {deployment.id}
        </Typography.Title>
        <span data-testid="deployment-status">
          <StatusTag status={deployment.status} crashLooping={deployment.crashLooping} ready={deployment.ready} />
        </span>
        <DeploymentActions
          deployment={deployment}
          onRemoved={() => {
            navigate('/deployments');
          }}
        />
        <LifecycleActions deployment={deployment} />
        <WatchSwitch deployment={deployment} label />
      </Space>
      {deployment.status === 'ERRORED' && (
        <Alert
          type="error"
          showIcon
          title="Deployment failed"
          description={<MultilineText text={deployment.statusMessage ?? 'no reason given'} />}
          style={{ marginBottom: 16 }}
          data-testid="error-reason"
        />
      )}
      {deployment.status === 'RUNNING' && deployment.crashLooping && (
        <Alert
          type="warning"
          showIcon
          title="Crash-looping: the app keeps ending and is restarted, so it is down most of the time"
          description={`${restartsSummary(deployment, timeOfDay) ?? 'restarting'}. It is stopped after too many failed restarts; see its log for why it ends.`}
          style={{ marginBottom: 16 }}
          data-testid="crash-loop"
        />
      )}
      {deployment.status === 'RUNNING' && !deployment.crashLooping && !deployment.ready && (
        <Alert
          type="warning"
          showIcon
          title="Running, not answering: the ingress sends it nothing until it answers again"
          description={`No answer on its port${deployment.notReadySince === null ? '' : ` since ${timeOfDay(deployment.notReadySince)}`}. ${deployment.statusMessage ?? ''}`.trim()}
          style={{ marginBottom: 16 }}
          data-testid="not-answering"
        />
      )}
      <Card style={{ marginBottom: 16 }}>
        <Descriptions column={{ xs: 1, md: 2 }} size="small">
          {deployment.name !== null && (
            <Descriptions.Item label="Name">
              {/* blocks: a link inside a line of text would stand out by its colour alone */}
              <div data-testid="app-name">
                <div>
                  <a href={deployment.appUrl ?? undefined} target="_blank" rel="noreferrer">
                    {deployment.appUrl}
                  </a>
                </div>
                <Typography.Text type="secondary">{`any agent: curl -H 'Host: ${deployment.name}' http://<agent>/`}</Typography.Text>
              </div>
            </Descriptions.Item>
          )}
          <Descriptions.Item label="App">
            {url === null ? (
              'not running'
            ) : (
              <a href={url} target="_blank" rel="noreferrer" aria-label={`Open the app at ${url}`}>
                {url}
              </a>
            )}
          </Descriptions.Item>
          <Descriptions.Item label="Source">
            <span style={{ wordBreak: 'break-all' }}>{deployment.srcUrl}</span>
          </Descriptions.Item>
          <Descriptions.Item label="Branch">
            {deployment.gitBranch}
            {deployment.watch ? ' (watched: new commits are deployed)' : ''}
          </Descriptions.Item>
          <Descriptions.Item label="Commit">{deployment.commit ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="Node">{deployment.node ?? 'waiting for a node'}</Descriptions.Item>
          <Descriptions.Item label="Placement">{deployment.placementReason ?? '—'}</Descriptions.Item>
          <Descriptions.Item label="Failover">
            <FailoverText deployment={deployment} />
          </Descriptions.Item>
          <Descriptions.Item label="Restarts">
            <span data-testid="restarts">{restartsSummary(deployment, timeOfDay) ?? 'none'}</span>
          </Descriptions.Item>
          <Descriptions.Item label="Memory">{live ? memoryText(deployment.memMb, deployment.maxMemMb) : '— (not running)'}</Descriptions.Item>
          <Descriptions.Item label="CPU">{!live || deployment.cpuUsage === null ? '—' : `${deployment.cpuUsage.toFixed(1)}%`}</Descriptions.Item>
          <Descriptions.Item label="Environment">{deployment.env.length === 0 ? '—' : deployment.env.map((e) => e.name).join(', ')}</Descriptions.Item>
        </Descriptions>
      </Card>
      {live && (
        <Card title="CPU and memory" style={{ marginBottom: 16 }}>
          <DeploymentStats deployment={deployment} />
        </Card>
      )}
      {deployment.status !== 'DESTROYED' && (
        <Card title="Environment" style={{ marginBottom: 16 }}>
          <EnvEditor deployment={deployment} />
        </Card>
      )}
      <Tabs
        items={[
          {
            key: 'activity',
            label: 'Status and log',
            children: (
              <>
                <Card title="Status history" style={{ marginBottom: 16 }}>
                  <StatusTimeline items={deployment.statusHistory} />
                </Card>
                <Card title="Log">
                  <LogView deploymentId={deployment.id} />
                </Card>
              </>
            ),
          },
          { key: 'releases', label: 'Releases', children: <ReleasesPanel deployment={deployment} /> },
        ]}
      />
    </>
  );
}

function RemovedDeployment({ deployment }: { deployment: Deployment }) {
  const when = deployment.removedAt === null ? '' : ` at ${new Date(deployment.removedAt * 1000).toLocaleString()}`;
  return (
    <>
      <Typography.Title level={2} style={{ wordBreak: 'break-all' }}>
        {deployment.id}
      </Typography.Title>
      <Alert
        type="info"
        showIcon
        title={`Deployment ${deployment.id} was removed`}
        description={
          // blocks: a link inside a line of text would stand out by its colour alone
          <>
            <div>{`It was ${statusLabel(deployment.status).toLowerCase()} and was removed from the list${when}. Its log stays readable here until the cluster's retention ends.`}</div>
            <div>
              <Link to="/deployments">All deployments</Link>
            </div>
          </>
        }
        style={{ marginBottom: 16 }}
        data-testid="deployment-removed"
      />
      <Card title="Log">
        <LogView deploymentId={deployment.id} />
      </Card>
    </>
  );
}

function timeOfDay(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString();
}

export function DeploymentPage({ id }: { id: string }) {
  return (
    <ClusterGate>
      <DeploymentDetail id={id} />
    </ClusterGate>
  );
}
