import { useEffect, useState } from 'react';
import { Alert, Card, Col, List, Row, Statistic, Tag, Typography } from 'antd';
import { getPlatformServices } from '../api/operations.js';
import type { PlatformService } from '../api/types.js';
import { NodeStateTag, StatusTag } from '../components/status-tag.js';
import { countByStatus, formatMb } from '../format.js';
import { useCluster } from '../store.js';
import { Link } from '../router.js';

export function PlatformPage() {
  const { deployments, nodes, orchestrator, request, token } = useCluster();
  const [services, setServices] = useState<PlatformService[]>();
  const [servicesError, setServicesError] = useState<string>();

  useEffect(() => {
    if (token === undefined) return;
    request(getPlatformServices, {})
      .then((data) => {
        setServices(data.getPlatformServices);
      })
      .catch((failure: unknown) => {
        setServicesError((failure as Error).message);
      });
  }, [request, token]);

  const counts = countByStatus(deployments);
  const shown = Object.entries(counts).filter(([, n]) => n > 0) as [keyof typeof counts, number][];
  const ramUsed = nodes.reduce((sum, n) => sum + n.ramUsed, 0);
  const ramTotal = nodes.reduce((sum, n) => sum + n.ramUsed + n.ramFree, 0);

  return (
    <>
      <Typography.Title level={2}>Platform</Typography.Title>
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}>
          <Card><Statistic title="Nodes" value={nodes.length} /></Card>
        </Col>
        <Col xs={12} md={6}>
          <Card><Statistic title="Deployments" value={deployments.length} /></Card>
        </Col>
        <Col xs={12} md={6}>
          <Card><Statistic title="Running" value={counts.RUNNING} /></Card>
        </Col>
        <Col xs={12} md={6}>
          <Card><Statistic title="Cluster RAM used" value={ramTotal === 0 ? '—' : `${formatMb(ramUsed)} / ${formatMb(ramTotal)}`} /></Card>
        </Col>
      </Row>
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={24} md={12}>
          <Card title="Deployments by status">
            {shown.length === 0 ? (
              <Typography.Text type="secondary">
                No deployments yet. <Link to="/deployments">Deploy an app</Link>.
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
        <Col xs={24} md={12}>
          <Card title="Nodes">
            <Typography.Paragraph type="secondary">Orchestrator: {orchestrator ?? '…'}</Typography.Paragraph>
            <List
              size="small"
              locale={{ emptyText: 'No node has sent a heartbeat yet.' }}
              dataSource={nodes}
              renderItem={(n) => (
                <List.Item>
                  <span>
                    {n.hostname} <Typography.Text type="secondary">{n.id}</Typography.Text>
                  </span>
                  <NodeStateTag state={n.state} />
                </List.Item>
              )}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <Card title="Platform services">
            {servicesError !== undefined && <Alert type="error" showIcon title={servicesError} />}
            <List
              size="small"
              loading={services === undefined && servicesError === undefined}
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
        </Col>
      </Row>
    </>
  );
}
