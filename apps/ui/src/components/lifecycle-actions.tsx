import { useState } from 'react';
import { App, Button, Popconfirm, Space } from 'antd';
import { RestartDeploymentDocument, StartDeploymentDocument, StopDeploymentDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { canRestart, canStart, canStop } from '../format.js';
import { useCluster } from '../store.js';

type Action = 'stop' | 'start' | 'restart';
const done: Record<Action, string> = { stop: 'Stop requested', start: 'Start requested', restart: 'Restart requested' };

/**
 * Stop (destructive-looking, confirmed: the app stops answering), Start and Restart, none of which
 * rebuilds. Only what the status allows is offered; the status tag then follows the node's report.
 */
export function LifecycleActions({ deployment }: { deployment: Deployment }) {
  const { request, applyDeployment, offlineSince } = useCluster();
  const offline = offlineSince !== undefined;
  const offlineTitle = offline ? 'The API is unreachable' : undefined;
  const { message } = App.useApp();
  const [busy, setBusy] = useState<Action>();
  const { status } = deployment;
  if (!canStop(status) && !canStart(status) && !canRestart(status)) return null;

  const run = (kind: Action) => {
    setBusy(kind);
    const variables = { deploymentId: deployment.id };
    const sent =
      kind === 'stop'
        ? request(StopDeploymentDocument, variables).then((data) => data.stopDeployment)
        : kind === 'start'
          ? request(StartDeploymentDocument, variables).then((data) => data.startDeployment)
          : request(RestartDeploymentDocument, variables).then((data) => data.restartDeployment);
    sent
      .then((changed) => {
        applyDeployment(changed);
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
      {canStop(status) && (
        <Popconfirm
          title="Stop this deployment?"
          description="It stops answering until you start it again; its image, name, port and log are kept, and nothing is rebuilt."
          okText="Stop deployment"
          okButtonProps={{ danger: true }}
          cancelText="Keep it running"
          onConfirm={() => {
            run('stop');
          }}
          disabled={offline}
        >
          <Button danger disabled={offline} title={offlineTitle} loading={busy === 'stop'} aria-label={`Stop deployment ${deployment.id}`}>
            Stop
          </Button>
        </Popconfirm>
      )}
      {canStart(status) && (
        <Button
          type="primary"
          disabled={offline}
          title={offlineTitle}
          loading={busy === 'start'}
          onClick={() => {
            run('start');
          }}
          aria-label={`Start deployment ${deployment.id}`}
        >
          Start
        </Button>
      )}
      {canRestart(status) && (
        <Button
          disabled={offline}
          title={offlineTitle}
          loading={busy === 'restart'}
          onClick={() => {
            run('restart');
          }}
          aria-label={`Restart deployment ${deployment.id}`}
        >
          Restart
        </Button>
      )}
    </Space>
  );
}
