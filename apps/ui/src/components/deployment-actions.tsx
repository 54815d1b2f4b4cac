import { useState } from 'react';
import { App, Button, Popconfirm, Space } from 'antd';
import { CancelDeploymentDocument, RedeployDocument, RemoveDeploymentDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { canCancel, canRemove } from '../format.js';
import { useCluster } from '../store.js';

type Action = 'cancel' | 'redeploy' | 'remove';
const done: Record<Action, string> = { cancel: 'Cancellation requested', redeploy: 'Redeploy requested', remove: 'Deployment removed' };

/**
 * Cancel (while something of it runs) or Remove (once nothing does: destroyed or errored), and
 * Redeploy; errors (a missing token included) show as messages. `onRemoved` runs once the API
 * removed it (the detail page leaves for the list).
 */
export function DeploymentActions({ deployment, onRemoved }: { deployment: Deployment; onRemoved?: () => void }) {
  const { request, applyDeployment, offlineSince } = useCluster();
  // with the API gone a click could only fail: the buttons say so before anyone tries
  const offline = offlineSince !== undefined;
  const offlineTitle = offline ? 'The API is unreachable' : undefined;
  const { message } = App.useApp();
  const [busy, setBusy] = useState<Action>();
  const removable = canRemove(deployment.status);

  const run = (kind: Action) => {
    setBusy(kind);
    const sent =
      kind === 'cancel'
        ? request(CancelDeploymentDocument, { deploymentId: deployment.id })
        : kind === 'remove'
          ? request(RemoveDeploymentDocument, { deploymentId: deployment.id }).then((data) => {
              onRemoved?.();
              applyDeployment(data.removeDeployment);
            })
          : request(RedeployDocument, { deploymentId: deployment.id }).then((data) => {
              applyDeployment(data.redeploy);
            });
    sent
      .then(() => {
        void message.success(done[kind]);
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
      {removable ? (
        <Popconfirm
          title="Remove this deployment?"
          description="It leaves the list and its name is free again; its log stays readable by its id for a while."
          okText="Remove deployment"
          okButtonProps={{ danger: true }}
          cancelText="Keep it"
          onConfirm={() => {
            run('remove');
          }}
          disabled={offline}
        >
          <Button danger disabled={offline} title={offlineTitle} loading={busy === 'remove'} aria-label={`Remove deployment ${deployment.id}`}>
            Remove
          </Button>
        </Popconfirm>
      ) : (
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
      )}
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
