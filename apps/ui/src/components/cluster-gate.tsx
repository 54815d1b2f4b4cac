import type { ReactNode } from 'react';
import { Button, Result, Skeleton } from 'antd';
import { useCluster } from '../store.js';

/**
 * What a page shows before it has data: the token prompt's hint, a skeleton while the first load
 * runs, or the failure with a retry. Once the cluster loaded, the page itself (which handles its
 * own empty state); later failures show in the app-wide alert above it.
 */
export function ClusterGate({ children }: { children: ReactNode }) {
  const { token, tokenRefused, loading, loaded, error, reload } = useCluster();
  if (loaded && !tokenRefused) return <>{children}</>;
  if (token === undefined) {
    return <Result status="info" title="Not connected" subTitle="Enter the API token to see the cluster." />;
  }
  // retrying with the same token cannot help: the token dialog is open
  if (tokenRefused)
    return (
      <Result status="warning" title="The API token was refused" subTitle="Enter the current API token to see the cluster." />
    );
  if (error !== undefined && !loading) {
    return (
      <Result
        status="error"
        title="Cannot load the cluster"
        subTitle={error}
        data-testid="load-error"
        extra={
          <Button type="primary" onClick={reload}>
            Retry
          </Button>
        }
      />
    );
  }
  return (
    <div role="status" aria-busy="true" aria-label="Loading the cluster">
      <Skeleton active paragraph={{ rows: 6 }} />
    </div>
  );
}
