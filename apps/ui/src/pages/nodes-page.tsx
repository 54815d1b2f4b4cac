import { Alert, Space, Table, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import type { ClusterNode, Deployment } from '../api/types.js';
import { ClusterGate } from '../components/cluster-gate.js';
import { NodeExtensions } from '../components/node-extensions.js';
import { NodeStateTag, StatusTag } from '../components/status-tag.js';
import { useNow } from '../components/use-now.js';
import { formatAge, formatMb, nodeDeploymentIds, nodeRole, nodeRuntime } from '../format.js';
import { Link } from '../router.js';
import { useCluster } from '../store.js';

/** Plain words for a node that is not alive, so nobody has to know what a state tag means. */
function trouble(node: ClusterNode, now: number): string | undefined {
  const silent = formatAge(now - node.updateTime);
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
            <Link to={`/deployments/${encodeURIComponent(id)}`}>{id}</Link> {deployment !== undefined && <StatusTag status={deployment.status} />}
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
  const columns: TableColumnsType<ClusterNode> = [
    {
      title: 'Node',
      key: 'id',
      render: (_, n) => (
        <>
          <strong>{n.hostname}</strong>
          <br />
          <Typography.Text type="secondary">{n.id}</Typography.Text>
        </>
      ),
    },
    { title: 'State', key: 'state', render: (_, n) => <NodeStateTag state={n.state} /> },
    { title: 'Role', key: 'role', render: (_, n) => <Tag>{nodeRole(n, orchestrator)}</Tag> },
    { title: 'Apps', key: 'apps', render: (_, n) => <NodeDeployments node={n} deployments={deployments} /> },
    { title: 'Address', dataIndex: 'addr', render: (addr: string | null) => addr ?? '—' },
    { title: 'RAM used / free', key: 'ram', render: (_, n) => `${formatMb(n.ramUsed)} / ${formatMb(n.ramFree)} (${n.currentRamPercent.toFixed(0)}%)` },
    { title: 'Load (5 min)', dataIndex: 'loadAvg5', render: (load: number) => load.toFixed(2) },
    // Readings from add-ons, beside RAM and load from the same heartbeat; only in a cluster where
    // some node has them, since an empty column costs width on a phone.
    ...(nodes.some((n) => n.extensions.length > 0)
      ? [{ title: 'Extensions', key: 'extensions', render: (_: unknown, n: ClusterNode) => <NodeExtensions extensions={n.extensions} /> }]
      : []),
    { title: 'Runtime', key: 'runtime', render: (_, n) => <NodeRuntime node={n} /> },
    { title: 'Uptime', key: 'uptime', render: (_, n) => formatAge(n.uptime) },
    { title: 'Heartbeat', key: 'heartbeat', render: (_, n) => <NodeHeartbeat node={n} now={now} /> },
    { title: 'CPU', key: 'model', render: (_, n) => `${n.model} (${n.arch})` },
  ];
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
        scroll={{ x: 'max-content' }}
        locale={{
          emptyText: (
            <span data-testid="no-nodes">
              No node has sent a heartbeat yet: start <code>kraken agent</code> on a machine (see <Link to="/getting-started">Getting started</Link>).
            </span>
          ),
        }}
      />
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
