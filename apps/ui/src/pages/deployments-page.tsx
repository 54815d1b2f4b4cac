import { useMemo, useRef, useState } from 'react';
import type { RefObject } from 'react';
import { Alert, App, Button, Card, Checkbox, Empty, Form, Input, Select, Space, Table, Typography } from 'antd';
import type { InputRef, TableColumnsType, TableProps } from 'antd';
import { CreateDeploymentDocument } from '../api/generated.js';
import type { Deployment } from '../api/types.js';
import { applicationStatuses } from '../api/types.js';
import type { ListQuery, SortKey } from '../deployment-list.js';
import { listQueryString, parseListQuery, selectDeployments, sortKeys } from '../deployment-list.js';
import { ClusterGate } from '../components/cluster-gate.js';
import { DeploymentActions } from '../components/deployment-actions.js';
import { RowDetails } from '../components/row-details.js';
import { StatusTag } from '../components/status-tag.js';
import { WatchSwitch } from '../components/watch-switch.js';
import { parseEnv, statusLabel } from '../format.js';
import { Link, navigate, replaceSearch, useSearch } from '../router.js';
import { useCluster } from '../store.js';

interface CreateValues {
  deploymentUrl: string;
  gitBranch: string;
  env?: string;
  watch?: boolean;
}

function CreateDeploymentForm({ urlField }: { urlField: RefObject<InputRef | null> }) {
  const { request, offlineSince } = useCluster();
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
        <Button type="primary" htmlType="submit" loading={busy} disabled={offlineSince !== undefined}>
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

function Source({ deployment: d }: { deployment: Deployment }) {
  return (
    // blocks, not a <br>: the row details lay their values out in a flex box, where a <br> breaks nothing
    <div>
      <div style={{ wordBreak: 'break-all' }}>{d.srcUrl}</div>
      <Typography.Text type="secondary">
        {d.gitBranch}
        {d.commit === null ? '' : ` @ ${d.commit.slice(0, 8)}`}
      </Typography.Text>
    </div>
  );
}

function AppUrl({ deployment: d }: { deployment: Deployment }) {
  const instance = d.deploymentUrl === null || d.status !== 'RUNNING' ? null : d.deploymentUrl;
  if (d.appUrl === null && instance === null) return '—';
  return (
    // the address that stays (its name, through any agent's ingress), then where the instance answers now
    <div>
      {d.appUrl !== null && (
        <div>
          <a href={d.appUrl} target="_blank" rel="noreferrer" data-testid="app-url">
            {d.appUrl}
          </a>
        </div>
      )}
      {instance !== null && (
        <div>
          <a href={instance} target="_blank" rel="noreferrer">
            <Typography.Text type="secondary">{instance}</Typography.Text>
          </a>
        </div>
      )}
    </div>
  );
}

// `responsive`: the smallest screen a column shows on (md 768 px, lg 992, xl 1200); what a narrower
// screen leaves out is in the row's details. At 1280 px every column shown fits without scrolling.
// Sortable columns sort on the server's whole list (selectDeployments), their order kept in the URL.
function columnsFor(query: ListQuery): TableColumnsType<Deployment> {
  const sortOrder = (key: SortKey): 'ascend' | 'descend' | null => (query.sort?.key === key ? (query.sort.order === 'asc' ? 'ascend' : 'descend') : null);
  const sortable = (key: SortKey) => ({ key, sorter: true, sortOrder: sortOrder(key), sortDirections: ['ascend' as const, 'descend' as const] });
  return [
    { title: 'ID', ...sortable('id'), render: (_, d) => <Link to={`/deployments/${encodeURIComponent(d.id)}`}>{d.id}</Link> },
    { title: 'Status', ...sortable('status'), render: (_, d) => <StatusTag status={d.status} crashLooping={d.crashLooping} ready={d.ready} /> },
    { title: 'Source', ...sortable('source'), responsive: ['md'], render: (_, d) => <Source deployment={d} /> },
    { title: 'Watch', key: 'watch', responsive: ['lg'], render: (_, d) => <WatchSwitch deployment={d} /> },
    { title: 'Node', ...sortable('node'), responsive: ['xl'], render: (_, d) => d.node ?? '—' },
    { title: 'URL', key: 'url', responsive: ['lg'], render: (_, d) => <AppUrl deployment={d} /> },
    { title: 'Actions', key: 'actions', responsive: ['sm'], render: (_, d) => <DeploymentActions deployment={d} /> },
  ];
}

function DeploymentRowDetails({ deployment: d }: { deployment: Deployment }) {
  return (
    <RowDetails
      testId={`details-${d.id}`}
      items={[
        { label: 'Source', children: <Source deployment={d} /> },
        { label: 'Node', children: d.node ?? '—' },
        { label: 'URL', children: <AppUrl deployment={d} /> },
        { label: 'Watch', children: <WatchSwitch deployment={d} /> },
        { label: 'Actions', children: <DeploymentActions deployment={d} /> },
      ]}
    />
  );
}

// "All statuses" is an option, not a placeholder: antd's placeholder grey is too faint to read (axe)
const ALL = 'ALL';
const statusOptions = [{ value: ALL, label: 'All statuses' }, ...applicationStatuses.map((status) => ({ value: status, label: statusLabel(status) }))];

/** Search, status filter and sort, read from and written to the URL's query (bookmarkable). */
function useListQuery(): [ListQuery, (change: Partial<ListQuery>) => void] {
  const search = useSearch();
  const query = useMemo(() => parseListQuery(search), [search]);
  const update = (change: Partial<ListQuery>) => {
    replaceSearch(listQueryString({ ...query, ...change }));
  };
  return [query, update];
}

function ListControls({ query, update, shown, total }: { query: ListQuery; update: (change: Partial<ListQuery>) => void; shown: number; total: number }) {
  const filtered = query.search !== '' || query.status !== undefined;
  return (
    <Space wrap style={{ marginBottom: 16 }}>
      <Input
        allowClear
        value={query.search}
        onChange={(event) => {
          update({ search: event.target.value });
        }}
        placeholder="Search id, name, source, branch, node"
        aria-label="Search deployments"
        style={{ width: 300, maxWidth: '100%' }}
      />
      <Select
        value={query.status ?? ALL}
        onChange={(status: string) => {
          update({ status: applicationStatuses.find((s) => s === status) });
        }}
        options={statusOptions}
        // every status in the page, not only the ones scrolled to: 17 are no list to virtualise
        virtual={false}
        listHeight={400}
        aria-label="Filter by status"
        style={{ width: 220 }}
      />
      {filtered && (
        <Typography.Text data-testid="list-count">
          {`${String(shown)} of ${String(total)} deployments`}
        </Typography.Text>
      )}
    </Space>
  );
}

export function DeploymentsPage() {
  const { deployments } = useCluster();
  const [query, update] = useListQuery();
  const urlField = useRef<InputRef>(null);
  const focusForm = () => {
    urlField.current?.focus({ cursor: 'end' });
  };
  const shown = useMemo(() => selectDeployments(deployments, query), [deployments, query]);
  const columns = useMemo(() => columnsFor(query), [query]);
  const onChange: TableProps<Deployment>['onChange'] = (_pagination, _filters, sorter) => {
    const one = Array.isArray(sorter) ? sorter[0] : sorter;
    const key = sortKeys.find((k) => k === one?.columnKey);
    update({ sort: key === undefined || one?.order == null ? undefined : { key, order: one.order === 'ascend' ? 'asc' : 'desc' } });
  };
  return (
    <>
      <Typography.Title level={2}>Deployments</Typography.Title>
      <CreateDeploymentForm urlField={urlField} />
      <ClusterGate>
        {deployments.length > 0 && <ListControls query={query} update={update} shown={shown.length} total={deployments.length} />}
        <Table<Deployment>
          rowKey="id"
          columns={columns}
          dataSource={shown}
          onChange={onChange}
          showSorterTooltip={false}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          expandable={{ expandedRowRender: (d) => <DeploymentRowDetails deployment={d} /> }}
          locale={{
            emptyText:
              deployments.length === 0 ? <NoDeployments onDeploy={focusForm} /> : <Empty data-testid="no-matches" description="No deployment matches the search and status filter." />,
          }}
        />
      </ClusterGate>
    </>
  );
}
