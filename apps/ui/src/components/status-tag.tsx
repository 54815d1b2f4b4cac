import { Tag } from 'antd';
import type { ApplicationStatus, NodeState } from '../api/types.js';
import { nodeStateColor, statusTag } from '../format.js';

/** A deployment's status; a RUNNING app that keeps crashing shows as crash-looping. */
export function StatusTag({ status, crashLooping = false }: { status: ApplicationStatus; crashLooping?: boolean }) {
  const { label, color } = statusTag(status, crashLooping);
  return (
    <Tag color={color} data-status={status} data-crash-looping={crashLooping && status === 'RUNNING' ? 'true' : undefined}>
      {label}
    </Tag>
  );
}

export function NodeStateTag({ state }: { state: NodeState }) {
  return <Tag color={nodeStateColor(state)}>{state.toLowerCase()}</Tag>;
}
