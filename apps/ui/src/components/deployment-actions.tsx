import { useState } from 'react';
import { App, Button, Popconfirm, Space } from 'antd';
import { CancelDeploymentDocument, RedeployDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { canCancel } from '../format.js';
import { useCluster } from '../store.js';

/** Cancel and redeploy buttons; errors (a missing token included) show as messages. */
export function DeploymentActions({ deployment }: { deployment: Deployment }) {
  const { request, applyDeployment, offlineSince } = useCluster();
  // with the API gone a click could only fail: the buttons say so before anyone tries
  const offline = offlineSince !== undefined;
  const offlineTitle = offline ? 'The API is unreachable' : undefined;
  const { message } = App.useApp();
  const [busy, setBusy] = useState<'cancel' | 'redeploy'>();

  const run = (kind: 'cancel' | 'redeploy') => {
    setBusy(kind);
    const done =
      kind === 'cancel'
        ? request(CancelDeploymentDocument, { deploymentId: deployment.id })
        : request(RedeployDocument, { deploymentId: deployment.id }).then((data) => {
            applyDeployment(data.redeploy);
          });
    done
      .then(() => {
        void message.success(kind === 'cancel' ? 'Cancellation requested' : 'Redeploy requested');
      })
      .catch((failure: unknown) => {
        void message.error((failure as Error).message);
      })
      .finally(() => {
        setBusy(undefined);
      });
  };

  return (
    <Space wrap>
      <Popconfirm
        title="Cancel this deployment?"
        description="Its container is stopped and removed."
        okText="Cancel deployment"
        okButtonProps={{ danger: true }}
        cancelText="Keep it"
        onConfirm={() => {
          run('cancel');
        }}
        disabled={!canCancel(deployment.status) || offline}
      >
        <Button danger disabled={!canCancel(deployment.status) || offline} title={offlineTitle} loading={busy === 'cancel'} aria-label={`Cancel deployment ${deployment.id}`}>
          Cancel
        </Button>
      </Popconfirm>
      <Button
        loading={busy === 'redeploy'}
        disabled={deployment.status === 'DESTROYED' || offline}
        title={offlineTitle}
        onClick={() => {
          run('redeploy');
        }}
        aria-label={`Redeploy ${deployment.id}`}
      >
        Redeploy
      </Button>
    </Space>
  );
}
