import { useEffect } from 'react';
import { Alert, Button, Col, Empty, Row, Skeleton } from 'antd';
import { StatsHistoryDocument } from '../api/generated.js';
import { useQuery } from '../api/use-query.js';
import type { Deployment } from '../api/types.js';
import type { StatsSample } from '../chart.js';
import { mergeSamples, sampleOf } from '../chart.js';
import { formatMb } from '../format.js';
import { memoryChartTitle } from '../honest.js';
import { useCluster } from '../store.js';
import { StatsChart } from './stats-chart.js';

const formatPercent = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)}%`;

/**
 * CPU and memory of one deployment over time: seeded from statsHistory (loaded again after a
 * reconnect), then a sample per deploymentChanged event that carries newer stats.
 */
export function DeploymentStats({ deployment }: { deployment: Deployment }) {
  const { reloads } = useCluster();
  // another deployment's page starts over: the hook forgets what it kept for other variables
  const query = useQuery(
    StatsHistoryDocument,
    { deploymentId: deployment.id },
    {
      select: ({ statsHistory }, current: StatsSample[] | undefined) => mergeSamples(current ?? [], statsHistory),
      deps: [reloads],
    },
  );
  // undefined until the history or a live sample came
  const { data: samples, setData: setSamples, retry } = query;
  // a question asked again hides the last failure until its answer
  const error = query.loading ? undefined : query.error;

  const latest = sampleOf(deployment);
  useEffect(() => {
    if (latest === undefined) return;
    setSamples((current = []) => (current.at(-1)?.time === latest.time ? current : mergeSamples(current, [latest])));
    // keyed on the time alone: every deploymentChanged event is a new object, a new sample is a new statsTime
  }, [latest?.time]);

  if (error !== undefined) {
    return (
      <Alert
        type="error"
        showIcon
        title={`Cannot load the CPU and memory history: ${error.message}`}
        action={
          <Button size="small" onClick={retry}>
            Retry
          </Button>
        }
      />
    );
  }
  if (samples === undefined) return <Skeleton active paragraph={{ rows: 3 }} aria-label="Loading the CPU and memory history" />;
  if (samples.length === 0) {
    return (
      <Empty
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={deployment.status === 'RUNNING' ? 'No samples yet: a running app reports its CPU and memory every few seconds.' : 'No samples: the app is not running.'}
      />
    );
  }
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} md={12}>
        <StatsChart title="CPU (% of one core)" name="cpu" points={samples.map((s) => ({ time: s.time, value: s.cpuUsage }))} format={formatPercent} />
      </Col>
      <Col xs={24} md={12}>
        <StatsChart
          title={memoryChartTitle(samples.at(-1)?.maxMemMb)}
          name="memory"
          points={samples.map((s) => ({ time: s.time, value: s.memMb }))}
          format={formatMb}
          minTop={16}
          color="#722ed1"
        />
      </Col>
    </Row>
  );
}
