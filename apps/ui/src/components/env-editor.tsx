import { useEffect, useState } from 'react';
import { Alert, App, Button, Input, Space, Typography } from 'antd';
import { SetEnvDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { envChangeOf, isEmptyChange, rowsOf, saveEffect } from '../env-changes.js';
import type { EnvRow } from '../env-changes.js';
import { useCluster } from '../store.js';

let nextKey = 0;

/**
 * Adds, changes and removes a deployment's environment variables. Values are write-only: the API
 * never sends them, so a stored variable's field is empty and only what is typed replaces it. A
 * running app restarts with the change from the build it has (no rebuild).
 */
export function EnvEditor({ deployment }: { deployment: Deployment }) {
  const { request, applyDeployment, offlineSince } = useCluster();
  const { message } = App.useApp();
  const storedNames = deployment.env.map((variable) => variable.name).join('\n');
  const [rows, setRows] = useState<EnvRow[]>(() => rowsOf(deployment.env));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  // a change saved here or elsewhere (the CLI) starts the editor again from the stored names
  useEffect(() => {
    setRows(rowsOf(storedNames === '' ? [] : storedNames.split('\n').map((name) => ({ name }))));
  }, [storedNames]);

  const change = envChangeOf(rows);
  const effect = saveEffect(deployment.status);
  const offline = offlineSince !== undefined;
  const update = (key: string, patch: Partial<EnvRow>) => {
    setRows((current) => current.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  };

  const save = () => {
    setBusy(true);
    setFailure(undefined);
    request(SetEnvDocument, { deploymentId: deployment.id, set: change.set, unset: change.unset })
      .then((data) => {
        applyDeployment(data.setEnv);
        setRows(rowsOf(data.setEnv.env));
        void message.success(data.setEnv.status === 'ERRORED' ? 'Settings saved for the next deploy' : 'Settings saved: the app restarts with them');
      })
      .catch((error: unknown) => {
        setFailure((error as Error).message);
      })
      .finally(() => {
        setBusy(false);
      });
  };

  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="env-editor">
      <Typography.Text type="secondary">Values are secret: they are never shown. Type a value to replace it; leave it empty to keep it.</Typography.Text>
      {rows.length === 0 && <Typography.Text>No variables yet.</Typography.Text>}
      {rows.map((row) => (
        <Space key={row.key} wrap align="center" data-testid="env-row">
          {row.stored ? (
            <Typography.Text code delete={row.removed} style={{ display: 'inline-block', minWidth: 160 }}>
              {row.name}
            </Typography.Text>
          ) : (
            <Input
              placeholder="NAME"
              value={row.name}
              disabled={row.removed}
              onChange={(event) => {
                update(row.key, { name: event.target.value });
              }}
              aria-label="Name of the new variable"
              style={{ width: 200 }}
            />
          )}
          <Input.Password
            placeholder={row.stored ? 'unchanged (hidden)' : 'value'}
            value={row.value}
            disabled={row.removed}
            autoComplete="new-password"
            onChange={(event) => {
              update(row.key, { value: event.target.value });
            }}
            aria-label={row.stored ? `New value of ${row.name}` : 'Value of the new variable'}
            style={{ width: 260 }}
          />
          <Button
            onClick={() => {
              update(row.key, { removed: !row.removed });
            }}
            aria-label={row.removed ? `Keep ${row.name || 'the new variable'}` : `Remove ${row.name || 'the new variable'}`}
          >
            {row.removed ? 'Keep' : 'Remove'}
          </Button>
        </Space>
      ))}
      {failure !== undefined && <Alert type="error" showIcon title="Not saved" description={failure} data-testid="env-error" />}
      <Space wrap>
        <Button
          onClick={() => {
            nextKey += 1;
            setRows((current) => [...current, { key: `new-${String(nextKey)}`, name: '', value: '', stored: false, removed: false }]);
          }}
        >
          Add variable
        </Button>
        <Button
          type="primary"
          loading={busy}
          disabled={!effect.allowed || offline || isEmptyChange(change)}
          title={!effect.allowed ? effect.why : offline ? 'The API is unreachable' : undefined}
          onClick={save}
        >
          {effect.allowed ? effect.label : 'Save'}
        </Button>
      </Space>
    </Space>
  );
}
