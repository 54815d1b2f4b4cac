import { useEffect, useState } from 'react';
import { Alert, Button, Col, Empty, Row, Skeleton } from 'antd';
import { StatsHistoryDocument } from '../api/generated.js';
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
  const { request, reloads } = useCluster();
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  const { id } = deployment;

  // another deployment's page: start over (runs before the load below)
  useEffect(() => {
    setSamples([]);
    setLoaded(false);
  }, [id]);

  useEffect(() => {
    let stale = false;
    setError(undefined);
    request(StatsHistoryDocument, { deploymentId: id })
      .then((data) => {
        if (stale) return;
        setSamples((current) => mergeSamples(current, data.statsHistory));
        setLoaded(true);
      })
      .catch((failure: unknown) => {
        if (!stale) setError((failure as Error).message);
      });
    return () => {
      stale = true;
    };
  }, [id, request, reloads, attempt]);

  const latest = sampleOf(deployment);
  useEffect(() => {
    if (latest === undefined) return;
    setSamples((current) => (current.at(-1)?.time === latest.time ? current : mergeSamples(current, [latest])));
    // keyed on the time alone: every deploymentChanged event is a new object, a new sample is a new statsTime
  }, [latest?.time]);

  if (error !== undefined) {
    return (
      <Alert
        type="error"
        showIcon
        title={`Cannot load the CPU and memory history: ${error}`}
        action={
          <Button
            size="small"
            onClick={() => {
              setAttempt((n) => n + 1);
            }}
          >
            Retry
          </Button>
        }
      />
    );
  }
  if (!loaded && samples.length === 0) return <Skeleton active paragraph={{ rows: 3 }} aria-label="Loading the CPU and memory history" />;
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
