import { Table, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import type { ClusterNode } from '../api/types.js';
import { NodeStateTag } from '../components/status-tag.js';
import { useNow } from '../components/use-now.js';
import { formatAge, formatMb } from '../format.js';
import { useCluster } from '../store.js';

function role(priority: number | null): string {
  return priority === 0 ? 'leader' : priority === null ? 'worker' : 'standby';
}

export function NodesPage() {
  const { nodes, loading } = useCluster();
  const now = useNow();
  const columns: TableColumnsType<ClusterNode> = [
    { title: 'Node', key: 'id', render: (_, n) => (<><strong>{n.hostname}</strong><br /><Typography.Text type="secondary">{n.id}</Typography.Text></>) },
    { title: 'State', key: 'state', render: (_, n) => <NodeStateTag state={n.state} /> },
    { title: 'Role', key: 'role', render: (_, n) => role(n.orchestrationPriority) },
    { title: 'Address', dataIndex: 'addr', render: (addr: string | null) => addr ?? '—' },
    { title: 'RAM used / free', key: 'ram', render: (_, n) => `${formatMb(n.ramUsed)} / ${formatMb(n.ramFree)} (${n.currentRamPercent.toFixed(0)}%)` },
    { title: 'Load (5 min)', dataIndex: 'loadAvg5', render: (load: number) => load.toFixed(2) },
    { title: 'Runtimes', key: 'runtimes', render: (_, n) => n.runtimes.join(', ') },
    { title: 'Apps', key: 'apps', render: (_, n) => n.deployments.length },
    { title: 'Uptime', key: 'uptime', render: (_, n) => formatAge(n.uptime) },
    { title: 'Heartbeat', key: 'heartbeat', render: (_, n) => `${formatAge(now - n.updateTime)} ago` },
    { title: 'CPU', key: 'model', responsive: ['lg'], render: (_, n) => `${n.model} (${n.arch})` },
  ];
  return (
    <>
      <Typography.Title level={2}>Nodes</Typography.Title>
      <Table<ClusterNode>
        rowKey="id"
        loading={loading && nodes.length === 0}
        columns={columns}
        dataSource={nodes}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: 'No nodes yet: start `kraken agent` on a machine (see Getting started).' }}
      />
    </>
  );
}
