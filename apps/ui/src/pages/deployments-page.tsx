import { useRef, useState } from 'react';
import type { RefObject } from 'react';
import { Alert, App, Button, Card, Checkbox, Empty, Form, Input, Table, Typography } from 'antd';
import type { InputRef, TableColumnsType } from 'antd';
import { CreateDeploymentDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { ClusterGate } from '../components/cluster-gate.js';
import { DeploymentActions } from '../components/deployment-actions.js';
import { StatusTag } from '../components/status-tag.js';
import { WatchSwitch } from '../components/watch-switch.js';
import { parseEnv } from '../format.js';
import { Link, navigate } from '../router.js';
import { useCluster } from '../store.js';

interface CreateValues {
  deploymentUrl: string;
  gitBranch: string;
  env?: string;
  watch?: boolean;
}

function CreateDeploymentForm({ urlField }: { urlField: RefObject<InputRef | null> }) {
  const { request } = useCluster();
  const { message } = App.useApp();
  const [form] = Form.useForm<CreateValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const onFinish = (values: CreateValues) => {
    const env = parseEnv(values.env ?? '');
    if (!env.ok) {
      setError(`Environment: ${env.error}`);
      return;
    }
    setBusy(true);
    setError(undefined);
    request(CreateDeploymentDocument, {
      deploymentUrl: values.deploymentUrl.trim(),
      gitBranch: values.gitBranch.trim(),
      env: env.env,
      watch: values.watch === true,
    })
      .then((data) => {
        void message.success(`Deployment ${data.createDeployment} requested`);
        form.resetFields();
        navigate(`/deployments/${encodeURIComponent(data.createDeployment)}`);
      })
      .catch((failure: unknown) => {
        setError((failure as Error).message);
      })
      .finally(() => {
        setBusy(false);
      });
  };

  return (
    <Card title="Deploy an app" style={{ marginBottom: 16 }}>
      <Form<CreateValues> form={form} layout="vertical" initialValues={{ gitBranch: 'main', watch: false }} onFinish={onFinish}>
        <Form.Item label="Git repository URL" name="deploymentUrl" rules={[{ required: true, message: 'Enter the URL of a git repository with a shipwreck.toml' }]}>
          <Input ref={urlField} placeholder="https://git.example.com/team/app.git" aria-label="Git repository URL" />
        </Form.Item>
        <Form.Item label="Branch" name="gitBranch" rules={[{ required: true, message: 'Enter a branch' }]}>
          <Input aria-label="Branch" />
        </Form.Item>
        <Form.Item label="Environment (one NAME=value a line)" name="env">
          <Input.TextArea rows={3} placeholder={'GREETING=hello\nDATABASE_URL=postgres://…'} aria-label="Environment" />
        </Form.Item>
        <Form.Item name="watch" valuePropName="checked">
          <Checkbox>Watch the branch: redeploy on new commits</Checkbox>
        </Form.Item>
        {error !== undefined && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
        <Button type="primary" htmlType="submit" loading={busy}>
          Deploy
        </Button>
      </Form>
    </Card>
  );
}

function NoDeployments({ onDeploy }: { onDeploy: () => void }) {
  return (
    <Empty
      data-testid="no-deployments"
      description={
        <>
          No deployments yet. Deploy an app with the form above; <Link to="/getting-started">Getting started</Link> shows what a repository needs.
        </>
      }
    >
      <Button type="primary" onClick={onDeploy}>
        Deploy an app
      </Button>
    </Empty>
  );
}

const columns: TableColumnsType<Deployment> = [
  { title: 'ID', key: 'id', render: (_, d) => <Link to={`/deployments/${encodeURIComponent(d.id)}`}>{d.id}</Link> },
  { title: 'Status', key: 'status', render: (_, d) => <StatusTag status={d.status} /> },
  {
    title: 'Source',
    key: 'src',
    render: (_, d) => (
      <>
        <span style={{ wordBreak: 'break-all' }}>{d.srcUrl}</span>
        <br />
        <Typography.Text type="secondary">
          {d.gitBranch}
          {d.commit === null ? '' : ` @ ${d.commit.slice(0, 8)}`}
        </Typography.Text>
      </>
    ),
  },
  { title: 'Watch', key: 'watch', render: (_, d) => <WatchSwitch deployment={d} /> },
  { title: 'Node', dataIndex: 'node', render: (node: string | null) => node ?? '—' },
  {
    title: 'URL',
    key: 'url',
    render: (_, d) => (
      <>
        {d.appUrl === null ? null : (
          // the address that stays, through any agent's ingress; the instance's below changes when it moves
          <a href={d.appUrl} target="_blank" rel="noreferrer" data-testid="app-url" style={{ display: 'block' }}>
            {d.appUrl}
          </a>
        )}
        {d.deploymentUrl === null || d.status !== 'RUNNING' ? (
          d.appUrl === null ? '—' : null
        ) : (
          <a href={d.deploymentUrl} target="_blank" rel="noreferrer">
            <Typography.Text type="secondary">{d.deploymentUrl}</Typography.Text>
          </a>
        )}
      </>
    ),
  },
  { title: 'Actions', key: 'actions', render: (_, d) => <DeploymentActions deployment={d} /> },
];

export function DeploymentsPage() {
  const { deployments } = useCluster();
  const urlField = useRef<InputRef>(null);
  const focusForm = () => {
    urlField.current?.focus({ cursor: 'end' });
  };
  return (
    <>
      <Typography.Title level={2}>Deployments</Typography.Title>
      <CreateDeploymentForm urlField={urlField} />
      <ClusterGate>
        <Table<Deployment>
          rowKey="id"
          columns={columns}
          dataSource={[...deployments].reverse()}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          scroll={{ x: 'max-content' }}
          locale={{ emptyText: <NoDeployments onDeploy={focusForm} /> }}
        />
      </ClusterGate>
    </>
  );
}
