import { Alert, Button, Card, Col, Row, Skeleton, Typography } from 'antd';
import { NodeHistoryDocument } from '../api/generated.js';
import { useQuery } from '../api/use-query.js';
import type { ClusterNode } from '../api/types.js';
import { formatMb } from '../format.js';
import type { NodeSample } from '../node-history.js';
import { nodeSeries } from '../node-history.js';
import { useCluster } from '../store.js';
import { StatsChart } from './stats-chart.js';
import { useNow } from './use-now.js';

/** The orchestrator keeps one sample per 10 s: asking more often would only fetch the same hour again. */
const REFRESH_MS = 10_000;

const formatPercent = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)}%`;

/**
 * CPU, memory and disk of every node over the last hour, from Node.history, fetched again every
 * 10 s and after a reconnect. Each axis reaches the node's capacity (100%, its RAM, its disk), so
 * a full-height line means full.
 */
export function NodeCharts({ nodes }: { nodes: readonly ClusterNode[] }) {
  const { reloads } = useCluster();
  const tick = useNow(REFRESH_MS);
  const {
    data: history,
    error,
    retry,
  } = useQuery(NodeHistoryDocument, {}, { select: ({ getNodes }) => new Map(getNodes.map((node) => [node.id, node.history])), deps: [reloads, tick] });

  if (error !== undefined && history === undefined) {
    return (
      <Alert
        type="error"
        showIcon
        title={`Cannot load the nodes' history: ${error.message}`}
        action={
          <Button size="small" onClick={retry}>
            Retry
          </Button>
        }
      />
    );
  }
  if (history === undefined) return <Skeleton active paragraph={{ rows: 3 }} aria-label="Loading the nodes' history" />;
  return (
    <Row gutter={[16, 16]}>
      {nodes.map((node) => (
        <Col key={node.id} xs={24}>
          <NodeChartsCard node={node} samples={history.get(node.id) ?? []} />
        </Col>
      ))}
    </Row>
  );
}

function NodeChartsCard({ node, samples }: { node: ClusterNode; samples: readonly NodeSample[] }) {
  const series = nodeSeries(samples);
  return (
    <Card size="small" title={`${node.hostname} over the last hour`} data-testid={`node-charts-${node.id}`}>
      {samples.length === 0 ? (
        <Typography.Text type="secondary" data-testid="node-charts-empty">
          No data yet: the leader keeps a sample of each heartbeat every 10 s, from when it started.
        </Typography.Text>
      ) : (
        <Row gutter={[16, 16]}>
          <Col xs={24} lg={8}>
            <StatsChart title="CPU busy (% of all cores)" name={`node-cpu-${node.id}`} points={series.cpu} format={formatPercent} top={100} />
          </Col>
          <Col xs={24} lg={8}>
            <StatsChart
              title={series.memoryTotalMb === undefined ? 'Memory used' : `Memory used (of ${formatMb(series.memoryTotalMb)})`}
              name={`node-memory-${node.id}`}
              points={series.memory}
              format={formatMb}
              {...(series.memoryTotalMb === undefined ? {} : { top: series.memoryTotalMb })}
              color="#722ed1"
            />
          </Col>
          <Col xs={24} lg={8}>
            <StatsChart
              title={series.diskTotalMb === undefined ? 'Disk used (not reported by this agent)' : `Disk used (of ${formatMb(series.diskTotalMb)}, data dir's filesystem)`}
              name={`node-disk-${node.id}`}
              points={series.disk}
              format={formatMb}
              {...(series.diskTotalMb === undefined ? {} : { top: series.diskTotalMb })}
              color="#13a8a8"
            />
          </Col>
        </Row>
      )}
    </Card>
  );
}
