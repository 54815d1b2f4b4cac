import { Tag } from 'antd';
import type { ApplicationStatus, NodeState } from '../api/types.js';
import { nodeStateColor, statusColor, statusLabel } from '../format.js';

export function StatusTag({ status }: { status: ApplicationStatus }) {
  return (
    <Tag color={statusColor(status)} data-status={status}>
      {statusLabel(status)}
    </Tag>
  );
}

export function NodeStateTag({ state }: { state: NodeState }) {
  return <Tag color={nodeStateColor(state)}>{state.toLowerCase()}</Tag>;
}
