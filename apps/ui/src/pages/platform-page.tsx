import { Alert, Button, Card, Col, List, Row, Statistic, Tag, Typography } from 'antd';
import { PlatformServicesDocument } from '../api/generated.js';
import { useQuery } from '../api/use-query.js';
import type { ClusterNode } from '../api/types.js';
import { ClusterGate } from '../components/cluster-gate.js';
import { RecentNotifications } from '../components/recent-notifications.js';
import { NodeStateTag, StatusTag } from '../components/status-tag.js';
import { countByStatus, formatMb, nodeRole, standbysOf } from '../format.js';
import { Link } from '../router.js';
import { useCluster } from '../store.js';

function nodeName(node: ClusterNode | undefined, fallbackId: string | undefined): string {
  if (node !== undefined) return `${node.hostname} (${node.id})`;
  return fallbackId ?? '…';
}

function PlatformServices() {
  const { reloads } = useCluster();
  const query = useQuery(PlatformServicesDocument, {}, { select: ({ getPlatformServices }) => getPlatformServices, deps: [reloads] });
  const { data: services, retry } = query;
  // a question asked again hides the last failure until its answer
  const error = query.loading ? undefined : query.error;

  return (
    <Card title="Platform services">
      {error !== undefined && (
        <Alert
          type="error"
          showIcon
          title={`Cannot load the platform services: ${error.message}`}
          action={
            <Button size="small" onClick={retry}>
              Retry
            </Button>
          }
        />
      )}
      <List
        size="small"
        loading={services === undefined && error === undefined}
        locale={{ emptyText: 'No services reported.' }}
        dataSource={services ?? []}
        renderItem={(s) => (
          <List.Item>
            <span>
              <strong>{s.name}</strong> <Typography.Text type="secondary">{s.detail}</Typography.Text>
            </span>
            <Tag color={s.status === 'up' ? 'green' : 'red'}>{s.status}</Tag>
          </List.Item>
        )}
      />
    </Card>
  );
}

function Overview() {
  const { deployments, nodes, orchestrator } = useCluster();
  const counts = countByStatus(deployments);
  const shown = Object.entries(counts).filter(([, n]) => n > 0) as [keyof typeof counts, number][];
  const ramUsed = nodes.reduce((sum, n) => sum + n.ramUsed, 0);
  const ramTotal = nodes.reduce((sum, n) => sum + n.ramUsed + n.ramFree, 0);
  const load = nodes.filter((n) => n.state !== 'DEAD').reduce((sum, n) => sum + n.loadAvg5, 0);
  const leader = nodes.find((n) => n.id === orchestrator);
  const standbys = standbysOf(nodes, orchestrator);

  return (
    <>
      <Row gutter={[16, 16]}>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title="Nodes" value={nodes.length} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic
              title="Deployments"
              value={deployments.length}
              suffix={<Typography.Text type="secondary" style={{ fontSize: 14 }}>({counts.RUNNING} running)</Typography.Text>}
            />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title="Cluster RAM used" value={ramTotal === 0 ? '—' : `${formatMb(ramUsed)} / ${formatMb(ramTotal)}`} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title="Cluster CPU load (5 min)" value={nodes.length === 0 ? '—' : load.toFixed(2)} />
          </Card>
        </Col>
      </Row>
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={24} md={12}>
          <Card title="Orchestration">
            <dl style={{ margin: 0 }} data-testid="orchestration">
              <dt>
                <Typography.Text type="secondary">Orchestrator (leader)</Typography.Text>
              </dt>
              <dd style={{ marginInlineStart: 0, marginBottom: 8 }}>{nodeName(leader, orchestrator)}</dd>
              <dt>
                <Typography.Text type="secondary">Standbys</Typography.Text>
              </dt>
              <dd style={{ marginInlineStart: 0, marginBottom: 0 }} data-testid="standby">
                {standbys.length === 0 ? (
                  <>none: if the orchestrator's machine fails, nothing takes over until it is back</>
                ) : (
                  standbys.map((standby) => (
                    <div key={standby.id}>
                      {nodeName(standby, undefined)} <NodeStateTag state={standby.state} />
                    </div>
                  ))
                )}
              </dd>
            </dl>
          </Card>
        </Col>
        <Col xs={24} md={12}>
          <Card title="Deployments by status">
            {shown.length === 0 ? (
              <Typography.Text type="secondary">
                No deployments yet. <Link to="/deployments">Deploy an app</Link> or read <Link to="/getting-started">Getting started</Link>.
              </Typography.Text>
            ) : (
              <List
                size="small"
                dataSource={shown}
                renderItem={([status, n]) => (
                  <List.Item>
                    <StatusTag status={status} /> <span aria-label={`${status} count`}>{n}</span>
                  </List.Item>
                )}
              />
            )}
          </Card>
        </Col>
        <Col xs={24}>
          <Card title="Nodes">
            <List
              size="small"
              locale={{ emptyText: 'No node has sent a heartbeat yet.' }}
              dataSource={nodes}
              renderItem={(n) => (
                <List.Item>
                  <span>
                    {n.hostname} <Typography.Text type="secondary">{n.id}</Typography.Text> <Tag>{nodeRole(n, orchestrator)}</Tag>
                  </span>
                  <span>
                    {n.noticeLossAfterMs !== null && n.state !== 'DEAD' && (
                      <Typography.Text type="secondary" title="Learned from its heartbeats: after this much silence it is declared dead and its apps move.">
                        loss noticed after {(n.noticeLossAfterMs / 1000).toFixed(1)} s{' '}
                      </Typography.Text>
                    )}
                    <NodeStateTag state={n.state} />
                  </span>
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}

export function PlatformPage() {
  return (
    <>
      <Typography.Title level={2}>Platform</Typography.Title>
      <ClusterGate>
        <Overview />
        <div style={{ marginTop: 16 }}>
          <PlatformServices />
        </div>
        <div style={{ marginTop: 16 }}>
          <RecentNotifications />
        </div>
      </ClusterGate>
    </>
  );
}
