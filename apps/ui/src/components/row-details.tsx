import type { ReactNode } from 'react';
import { Descriptions } from 'antd';

interface RowDetail {
  label: string;
  children: ReactNode;
}

/**
 * Everything about one table row, shown when the row is expanded: on a phone the table keeps the
 * columns that matter and the rest is a tap away; wider screens show more columns and the same details.
 */
export function RowDetails({ items, testId }: { items: readonly RowDetail[]; testId: string }) {
  return (
    <Descriptions
      data-testid={testId}
      size="small"
      column={{ xs: 1, md: 2, xl: 3 }}
      items={items.map((item) => ({ key: item.label, label: item.label, children: item.children }))}
    />
  );
}
