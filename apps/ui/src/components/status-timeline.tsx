import { Timeline, Typography } from 'antd';
import type { Deployment } from '../api/types.js';
import { statusColor, statusLabel } from '../format.js';
import { MultilineText } from './multiline-text.js';

const timelineColor: Record<string, string> = { processing: 'blue', default: 'gray' };

/** Statuses a deployment (or one of its releases) went through, oldest first, with when, where and why. */
export function StatusTimeline({ items }: { items: readonly Deployment['statusHistory'][number][] }) {
  return (
    <Timeline
      items={items.map((item, index) => ({
        key: `${String(index)}-${item.status}`,
        color: timelineColor[statusColor(item.status)] ?? statusColor(item.status),
        content: (
          <>
            <strong>{statusLabel(item.status)}</strong>{' '}
            <Typography.Text type="secondary">
              {new Date(item.time * 1000).toLocaleTimeString()}
              {item.node === null ? '' : ` · ${item.node}`}
            </Typography.Text>
            {item.message !== null && item.message !== '' && <MultilineText text={item.message} />}
          </>
        ),
      }))}
    />
  );
}
