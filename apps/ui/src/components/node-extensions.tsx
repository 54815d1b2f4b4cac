import { Flex, Tag, Typography } from 'antd';
import type { ClusterNode } from '../api/types.js';
import { formatExtensionValue } from '../format.js';

/**
 * The readings a node's add-ons send with its heartbeat (a temperature, a job's last result), as
 * `key: value` tags; nothing when it sends none. Tags wrap inside a bounded width, and long text
 * breaks, so a node with many readings grows the row downwards instead of widening the table.
 */
export function NodeExtensions({ extensions }: { extensions: ClusterNode['extensions'] }) {
  if (extensions.length === 0) return null;
  return (
    <Flex wrap gap={4} style={{ maxWidth: '18em' }} data-testid="node-extensions">
      {extensions.map((extension) => (
        <Tag
          key={extension.key}
          title={`${extension.key} = ${extension.value} (${extension.type})`}
          data-key={extension.key}
          style={{ marginInlineEnd: 0, whiteSpace: 'normal', overflowWrap: 'anywhere' }}
        >
          <Typography.Text type="secondary" style={{ fontSize: 'inherit' }}>
            {extension.key}:
          </Typography.Text>{' '}
          {formatExtensionValue(extension)}
        </Tag>
      ))}
    </Flex>
  );
}
