import { useState } from 'react';
import { App, Space, Switch } from 'antd';
import { SetWatchDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { useCluster } from '../store.js';

/** Turns redeploy-on-new-commits on or off; the switch shows the state the API confirmed. */
export function WatchSwitch({ deployment, label = false }: { deployment: Deployment; label?: boolean }) {
  const { request, applyDeployment, offlineSince } = useCluster();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const gone = deployment.status === 'DESTROYED';

  const change = (watch: boolean) => {
    setBusy(true);
    request(SetWatchDocument, { deploymentId: deployment.id, watch })
      .then((data) => {
        applyDeployment(data.setWatch);
        void message.success(watch ? `Watching ${deployment.gitBranch}: new commits are deployed` : `Stopped watching ${deployment.gitBranch}`);
      })
      .catch((failure: unknown) => {
        void message.error((failure as Error).message);
      })
      .finally(() => {
        setBusy(false);
      });
  };

  const control = (
    <Switch
      size={label ? 'default' : 'small'}
      checked={deployment.watch}
      loading={busy}
      disabled={gone || offlineSince !== undefined}
      onChange={change}
      aria-label={`Watch branch ${deployment.gitBranch} of ${deployment.id}`}
      title={gone ? 'The deployment is destroyed' : offlineSince !== undefined ? 'The API is unreachable' : 'Redeploy when the branch gets new commits'}
    />
  );
  if (!label) return control;
  return (
    <Space>
      {control}
      <span aria-hidden="true">Watch branch</span>
    </Space>
  );
}
