import { Alert, Space, Table, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import type { ClusterNode, Deployment } from '../api/types.js';
import { ClusterGate } from '../components/cluster-gate.js';
import { NodeCharts } from '../components/node-charts.js';
import { NodeExtensions } from '../components/node-extensions.js';
import { RowDetails } from '../components/row-details.js';
import { NodeStateTag, StatusTag } from '../components/status-tag.js';
import { useNow } from '../components/use-now.js';
import { formatAge, formatMb, nodeDeploymentIds, nodeRole, nodeRuntime } from '../format.js';
import { Link } from '../router.js';
import { useCluster } from '../store.js';

/** Busy share of all cores over its last heartbeat interval; a dash from an agent that does not say. */
function cpuBusy(node: ClusterNode): string {
  return node.cpuPercent === null ? '—' : `${node.cpuPercent.toFixed(0)}%`;
}

function diskUse(node: ClusterNode): string {
  if (node.diskUsedMb === null || node.diskTotalMb === null) return '—';
  const percent = node.diskTotalMb > 0 ? ` (${((node.diskUsedMb / node.diskTotalMb) * 100).toFixed(0)}%)` : '';
  return `${formatMb(node.diskUsedMb)} of ${formatMb(node.diskTotalMb)}${percent}`;
}

/** Plain words for a node that is not alive, so nobody has to know what a state tag means. */
function trouble(node: ClusterNode, now: number): string | undefined {
  const silent = formatAge(now - node.updateTime);
  if (node.state === 'SUSPECT' && node.reachable) {
    return `${node.hostname} (${node.id}) is suspect: no heartbeat for ${silent}, but its pulses arrive, so it is reachable (its link to the broker stalls or is down). It gets no new apps; its apps stay there.`;
  }
  if (node.state === 'SUSPECT') return `${node.hostname} (${node.id}) is suspect: no heartbeat for ${silent}. It gets no new apps; its apps stay there for now.`;
  if (node.state === 'DEAD') return `${node.hostname} (${node.id}) is dead: no heartbeat for ${silent}. Its apps were moved to other nodes.`;
  return undefined;
}

function NodeDeployments({ node, deployments }: { node: ClusterNode; deployments: readonly Deployment[] }) {
  const ids = nodeDeploymentIds(node, deployments);
  if (ids.length === 0) return <Typography.Text type="secondary">none</Typography.Text>;
  return (
    <Space orientation="vertical" size={2}>
      {ids.map((id) => {
        const deployment = deployments.find((d) => d.id === id);
        return (
          <span key={id}>
            <Link to={`/deployments/${encodeURIComponent(id)}`}>{id}</Link> {deployment !== undefined && <StatusTag status={deployment.status} crashLooping={deployment.crashLooping} ready={deployment.ready} />}
          </span>
        );
      })}
    </Space>
  );
}

/** The runtime, and under it what it enforces on apps, so nobody trusts a process runtime with more than it gives. */
function NodeRuntime({ node }: { node: ClusterNode }) {
  const { runtime, enforces } = nodeRuntime(node);
  return (
    <span data-testid="node-runtime">
      {runtime}
      {enforces !== undefined && (
        <>
          <br />
          <Typography.Text type="secondary">{enforces}</Typography.Text>
        </>
      )}
    </span>
  );
}

function NodesTable() {
  const { nodes, deployments, orchestrator } = useCluster();
  const now = useNow();
  const ram = (n: ClusterNode) => `${formatMb(n.ramUsed)} / ${formatMb(n.ramFree)} (${n.currentRamPercent.toFixed(0)}%)`;
  const hasExtensions = nodes.some((n) => n.extensions.length > 0);
  // `responsive`: the smallest screen a column shows on (sm 576 px, md 768, lg 992, xl 1200,
  // xxl 1600); the row's details hold every field, so a narrower screen loses nothing.
  const columns: TableColumnsType<ClusterNode> = [
    {
      title: 'Node',
      key: 'id',
      render: (_, n) => (
        <>
          <strong>{n.hostname}</strong>
          <br />
          <Typography.Text type="secondary" style={{ wordBreak: 'break-all' }}>
            {n.id}
          </Typography.Text>
        </>
      ),
    },
    { title: 'State', key: 'state', render: (_, n) => <NodeStateTag state={n.state} /> },
    { title: 'Role', key: 'role', responsive: ['sm'], render: (_, n) => <Tag>{nodeRole(n, orchestrator)}</Tag> },
    { title: 'Apps', key: 'apps', responsive: ['md'], render: (_, n) => <NodeDeployments node={n} deployments={deployments} /> },
    { title: 'Address', dataIndex: 'addr', responsive: ['xxl'], render: (addr: string | null) => addr ?? '—' },
    { title: 'RAM used / free', key: 'ram', responsive: ['md'], render: (_, n) => ram(n) },
    { title: 'CPU busy / load (5 min)', key: 'load', responsive: ['lg'], render: (_, n) => `${cpuBusy(n)} / ${n.loadAvg5.toFixed(2)}` },
    { title: 'Disk used', key: 'disk', responsive: ['xxl'], render: (_, n) => diskUse(n) },
    // Readings from add-ons, beside RAM and load from the same heartbeat; only in a cluster where
    // some node has them, since an empty column costs width.
    ...(hasExtensions
      ? [{ title: 'Extensions', key: 'extensions', responsive: ['xl' as const], render: (_: unknown, n: ClusterNode) => <NodeExtensions extensions={n.extensions} /> }]
      : []),
    { title: 'Runtime', key: 'runtime', responsive: ['lg'], render: (_, n) => <NodeRuntime node={n} /> },
    { title: 'Uptime', key: 'uptime', responsive: ['xxl'], render: (_, n) => formatAge(n.uptime) },
    { title: 'Heartbeat', key: 'heartbeat', responsive: ['sm'], render: (_, n) => <NodeHeartbeat node={n} now={now} /> },
    { title: 'CPU', key: 'model', responsive: ['xxl'], render: (_, n) => `${n.model} (${n.arch})` },
  ];
  const details = (n: ClusterNode) => (
    <RowDetails
      testId={`details-${n.id}`}
      items={[
        { label: 'Role', children: nodeRole(n, orchestrator) },
        { label: 'Apps', children: <NodeDeployments node={n} deployments={deployments} /> },
        { label: 'Address', children: n.addr ?? '—' },
        { label: 'RAM used / free', children: ram(n) },
        { label: 'CPU busy', children: cpuBusy(n) },
        { label: 'Load (5 min)', children: n.loadAvg5.toFixed(2) },
        { label: 'Disk used (data dir)', children: diskUse(n) },
        ...(hasExtensions ? [{ label: 'Extensions', children: <NodeExtensions extensions={n.extensions} /> }] : []),
        { label: 'Runtime', children: <NodeRuntime node={n} /> },
        { label: 'Uptime', children: formatAge(n.uptime) },
        { label: 'Heartbeat', children: <NodeHeartbeat node={n} now={now} /> },
        { label: 'CPU', children: `${n.model} (${n.arch})` },
      ]}
    />
  );
  const troubles = nodes.map((n) => trouble(n, now)).filter((t) => t !== undefined);
  return (
    <>
      {troubles.map((text) => (
        <Alert key={text} type={text.includes(' is dead') ? 'error' : 'warning'} showIcon title={text} style={{ marginBottom: 16 }} />
      ))}
      <Table<ClusterNode>
        rowKey="id"
        columns={columns}
        dataSource={nodes}
        pagination={false}
        expandable={{ expandedRowRender: details }}
        locale={{
          emptyText: (
            <span data-testid="no-nodes">
              No node has sent a heartbeat yet: start <code>kraken agent</code> on a machine (see <Link to="/getting-started">Getting started</Link>).
            </span>
          ),
        }}
      />
      {nodes.length > 0 && (
        <section aria-labelledby="node-load-title" style={{ marginTop: 24 }}>
          <Typography.Title level={3} id="node-load-title">
            Load over time
          </Typography.Title>
          <NodeCharts nodes={nodes} />
        </section>
      )}
    </>
  );
}

export function NodesPage() {
  return (
    <>
      <Typography.Title level={2}>Nodes</Typography.Title>
      <ClusterGate>
        <NodesTable />
      </ClusterGate>
    </>
  );
}

/**
 * When the node was last heard from, and how long a silence the leader gives it before moving its
 * apps (learned from its heartbeats: longer on a lossy link).
 */
function NodeHeartbeat({ node, now }: { node: ClusterNode; now: number }) {
  const heard = `${formatAge(now - node.updateTime)} ago`;
  if (node.noticeLossAfterMs === null) return <>{heard}</>;
  return (
    <span title="The leader learns each node's heartbeat rhythm: after this much silence it declares the node dead and moves its apps.">
      {heard}
      <br />
      <Typography.Text type="secondary">dead after {(node.noticeLossAfterMs / 1000).toFixed(1)} s silent</Typography.Text>
    </span>
  );
}
