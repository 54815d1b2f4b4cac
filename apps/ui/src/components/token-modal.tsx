import { useState } from 'react';
import { Alert, Form, Input, Modal, Typography } from 'antd';
import { graphqlRequest } from '../api/graphql-request.js';
import { PlatformServicesDocument } from '../api/generated.js';

/** Asks for the API token and checks it against the API before keeping it. */
export function TokenModal({
  open,
  refused = false,
  onSave,
  onCancel,
}: {
  open: boolean;
  /** The stored token was refused by the API: say so, since the user did not just type it. */
  refused?: boolean;
  onSave: (token: string) => void;
  onCancel?: (() => void) | undefined;
}) {
  const [value, setValue] = useState('');
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string>();

  const submit = () => {
    const token = value.trim();
    if (token === '') {
      setError('Enter the API token.');
      return;
    }
    setChecking(true);
    graphqlRequest(PlatformServicesDocument, {}, token)
      .then(() => {
        setError(undefined);
        setValue('');
        onSave(token);
      })
      .catch((failure: unknown) => {
        setError((failure as Error).message);
      })
      .finally(() => {
        setChecking(false);
      });
  };

  return (
    <Modal
      open={open}
      title="Connect to your Kraken cluster"
      okText="Save token"
      onOk={submit}
      confirmLoading={checking}
      closable={onCancel !== undefined}
      mask={{ closable: false }}
      keyboard={onCancel !== undefined}
      onCancel={onCancel}
      cancelButtonProps={{ style: onCancel === undefined ? { display: 'none' } : {} }}
    >
      {refused && (
        <Alert
          type="warning"
          showIcon
          title="The API refused the token this browser had kept (it may have been changed). Enter the current one."
          style={{ marginBottom: 16 }}
          data-testid="stored-token-refused"
        />
      )}
      <Typography.Paragraph>
        The API token was printed once by <code>kraken agent</code> at first start; it is also in <code>&lt;data-dir&gt;/secrets.json</code> as{' '}
        <code>apiToken</code>. It stays in this browser only.
      </Typography.Paragraph>
      <Form layout="vertical" onFinish={submit}>
        <Form.Item label="API token" htmlFor="api-token">
          <Input.Password
            id="api-token"
            aria-label="API token"
            autoFocus
            value={value}
            onChange={(e) => {
              setValue(e.target.value);
            }}
            onPressEnter={submit}
          />
        </Form.Item>
      </Form>
      {error !== undefined && <Alert type="error" showIcon title={error} />}
    </Modal>
  );
}
