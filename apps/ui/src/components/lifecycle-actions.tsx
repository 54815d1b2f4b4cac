import { Space } from 'antd';
import { RestartDeploymentDocument, StartDeploymentDocument, StopDeploymentDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { canRestart, canStart, canStop } from '../format.js';
import { useCluster } from '../store.js';
import { ActionButton, DangerAction } from './action-button.js';

/**
 * Stop (destructive-looking, confirmed: the app stops answering), Start and Restart, none of which
 * rebuilds. Only what the status allows is offered; the status tag then follows the node's report.
 */
export function LifecycleActions({ deployment }: { deployment: Deployment }) {
  const { request, applyDeployment } = useCluster();
  const { status } = deployment;
  if (!canStop(status) && !canStart(status) && !canRestart(status)) return null;
  const variables = { deploymentId: deployment.id };

  return (
    <Space wrap>
      {canStop(status) && (
        <DangerAction
          label="Stop"
          ariaLabel={`Stop deployment ${deployment.id}`}
          confirm={{
            title: 'Stop this deployment?',
            description: 'It stops answering until you start it again; its image, name, port and log are kept, and nothing is rebuilt.',
            okText: 'Stop deployment',
            cancelText: 'Keep it running',
          }}
          run={() =>
            request(StopDeploymentDocument, variables).then((data) => {
              applyDeployment(data.stopDeployment);
            })
          }
          done="Stop requested"
        />
      )}
      {canStart(status) && (
        <ActionButton
          primary
          label="Start"
          ariaLabel={`Start deployment ${deployment.id}`}
          run={() =>
            request(StartDeploymentDocument, variables).then((data) => {
              applyDeployment(data.startDeployment);
            })
          }
          done="Start requested"
        />
      )}
      {canRestart(status) && (
        <ActionButton
          label="Restart"
          ariaLabel={`Restart deployment ${deployment.id}`}
          run={() =>
            request(RestartDeploymentDocument, variables).then((data) => {
              applyDeployment(data.restartDeployment);
            })
          }
          done="Restart requested"
        />
      )}
    </Space>
  );
}
