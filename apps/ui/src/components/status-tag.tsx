import { Tag } from 'antd';
import type { ApplicationStatus, NodeState } from '../api/types.js';
import { nodeStateColor, statusTag } from '../format.js';

/** A deployment's status; a RUNNING app that keeps crashing shows as crash-looping, one that does not answer as such. */
export function StatusTag({ status, crashLooping = false, ready = true }: { status: ApplicationStatus; crashLooping?: boolean; ready?: boolean }) {
  const { label, color } = statusTag(status, crashLooping, ready);
  return (
    <Tag
      color={color}
      data-status={status}
      data-crash-looping={crashLooping && status === 'RUNNING' ? 'true' : undefined}
      data-not-answering={!ready && status === 'RUNNING' ? 'true' : undefined}
    >
      {label}
    </Tag>
  );
}

export function NodeStateTag({ state }: { state: NodeState }) {
  return <Tag color={nodeStateColor(state)}>{state.toLowerCase()}</Tag>;
}
