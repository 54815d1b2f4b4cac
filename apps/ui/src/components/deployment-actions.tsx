import { Space } from 'antd';
import { CancelDeploymentDocument, RedeployDocument, RemoveDeploymentDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { canCancel, canRemove } from '../format.js';
import { useCluster } from '../store.js';
import { ActionButton, DangerAction } from './action-button.js';

/**
 * Cancel (while something of it runs) or Remove (once nothing does: destroyed or errored), and
 * Redeploy; errors (a missing token included) show as messages. `onRemoved` runs once the API
 * removed it (the detail page leaves for the list).
 */
export function DeploymentActions({ deployment, onRemoved }: { deployment: Deployment; onRemoved?: () => void }) {
  const { request, applyDeployment } = useCluster();
  const variables = { deploymentId: deployment.id };

  return (
    <Space wrap>
      {canRemove(deployment.status) ? (
        <DangerAction
          label="Remove"
          ariaLabel={`Remove deployment ${deployment.id}`}
          confirm={{
            title: 'Remove this deployment?',
            description: 'It leaves the list and its name is free again; its log stays readable by its id for a while.',
            okText: 'Remove deployment',
            cancelText: 'Keep it',
          }}
          run={() =>
            request(RemoveDeploymentDocument, variables).then((data) => {
              onRemoved?.();
              applyDeployment(data.removeDeployment);
            })
          }
          done="Deployment removed"
        />
      ) : (
        <DangerAction
          label="Cancel"
          ariaLabel={`Cancel deployment ${deployment.id}`}
          confirm={{ title: 'Cancel this deployment?', description: 'Its container is stopped and removed.', okText: 'Cancel deployment', cancelText: 'Keep it' }}
          disabled={!canCancel(deployment.status)}
          run={() => request(CancelDeploymentDocument, variables)}
          done="Cancellation requested"
        />
      )}
      <ActionButton
        label="Redeploy"
        ariaLabel={`Redeploy ${deployment.id}`}
        disabled={deployment.status === 'DESTROYED'}
        run={() =>
          request(RedeployDocument, variables).then((data) => {
            applyDeployment(data.redeploy);
          })
        }
        done="Redeploy requested"
      />
    </Space>
  );
}
