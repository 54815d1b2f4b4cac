import { Alert, Card, Grid, Table, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { ReleasesDocument, RollbackDeploymentDocument } from '../api/generated.js';
import { useQuery } from '../api/use-query.js';
import type { Deployment, Release } from '../api/types.js';
import { newestFirst, releaseDuration, releaseResultTag } from '../releases.js';
import { useCluster } from '../store.js';
import { DangerAction } from './action-button.js';
import { LogView } from './log-view.js';
import { MultilineText } from './multiline-text.js';
import { RowDetails } from './row-details.js';
import { StatusTimeline } from './status-timeline.js';
import { useNow } from './use-now.js';

/**
 * A deployment's releases (each build: what caused it, how it ended), newest first; a row opens
 * on click to its own status timeline and log. Asked for again whenever the deployment changes.
 */
export function ReleasesPanel({ deployment }: { deployment: Deployment }) {
  const now = useNow();
  // every release starts and ends with a status change: refetch on those, not on each stats report
  const changed = `${deployment.status}-${String(deployment.statusHistory.length)}`;
  const { data: releases, error } = useQuery(ReleasesDocument, { deploymentId: deployment.id }, { select: ({ getReleases }) => newestFirst(getReleases), deps: [changed] });

  const columns: TableColumnsType<Release> = [
    { title: '#', dataIndex: 'number', key: 'number', width: 56 },
    { title: 'Commit', key: 'commit', render: (_, r) => <Typography.Text code>{r.commit === null ? '—' : r.commit.slice(0, 8)}</Typography.Text> },
    { title: 'Trigger', dataIndex: 'trigger', key: 'trigger', responsive: ['md'] },
    { title: 'Started', key: 'started', responsive: ['lg'], render: (_, r) => new Date(r.startedAt * 1000).toLocaleString() },
    { title: 'Duration', key: 'duration', responsive: ['sm'], render: (_, r) => releaseDuration(r, now) },
    {
      title: 'Result',
      key: 'result',
      render: (_, r) => {
        const tag = releaseResultTag(r.result);
        return <Tag color={tag.color}>{tag.label}</Tag>;
      },
    },
  ];
  // only when there is something to do, and not on a phone (no room): there the opened row has it
  const wide = Grid.useBreakpoint().sm === true;
  if (wide && releases?.some((r) => r.rollbackTarget) === true) {
    columns.push({ title: 'Actions', key: 'actions', render: (_, r) => (r.rollbackTarget ? <RollbackAction deployment={deployment} release={r} /> : null) });
  }

  return (
    <Card title="Releases">
      {error !== undefined && <Alert type="error" showIcon title={`Cannot load the releases: ${error.message}`} style={{ marginBottom: 8 }} />}
      <Table<Release>
        data-testid="releases"
        rowKey="number"
        size="small"
        loading={releases === undefined && error === undefined}
        dataSource={releases ?? []}
        columns={columns}
        pagination={false}
        expandable={{ expandRowByClick: true, expandedRowRender: (r) => <ReleaseDetail deployment={deployment} release={r} now={now} rollback={!wide} /> }}
      />
    </Card>
  );
}

/** Runs an earlier successful release again from the build its node kept (the API marks which ones it can). */
function RollbackAction({ deployment, release }: { deployment: Deployment; release: Release }) {
  const { request, applyDeployment } = useCluster();
  const commit = release.commit ?? '';
  const short = commit.slice(0, 7);
  return (
    // a click here must not also open the row
    <span
      onClick={(event) => {
        event.stopPropagation();
      }}
    >
      <DangerAction
        label="Roll back to this"
        // the visible text first: a screen reader user says what they see
        ariaLabel={`Roll back to this: release ${String(release.number)} (${short}) of ${deployment.id}`}
        confirm={{
          title: `Roll back to ${short}?`,
          description: `Release ${String(release.number)} runs again from the build its node kept, with no rebuild, as a new release; the running version stops.`,
          okText: 'Roll back',
          cancelText: 'Keep the running version',
        }}
        run={() =>
          request(RollbackDeploymentDocument, { deploymentId: deployment.id, commit }).then((data) => {
            applyDeployment(data.rollbackDeployment);
          })
        }
        done={`Rollback to ${short} requested`}
      />
    </span>
  );
}

/** `rollback`: offer the rollback here (on a phone, where the table has no Actions column). */
function ReleaseDetail({ deployment, release, now, rollback }: { deployment: Deployment; release: Release; now: number; rollback: boolean }) {
  const deploymentId = deployment.id;
  return (
    <div data-testid={`release-${String(release.number)}`}>
      {rollback && release.rollbackTarget && (
        <div style={{ marginBottom: 12 }}>
          <RollbackAction deployment={deployment} release={release} />
        </div>
      )}
      {release.reason !== null && (
        <Alert
          type={release.result === 'FAILED' ? 'error' : 'info'}
          showIcon
          title={release.result === 'FAILED' ? 'Why it failed' : 'Why it ended'}
          description={<MultilineText text={release.reason} />}
          style={{ marginBottom: 12 }}
        />
      )}
      <RowDetails
        testId={`release-${String(release.number)}-details`}
        items={[
          // a full hash does not break by itself: in a table cell it would widen the page on a phone
          { label: 'Commit', children: <span style={{ wordBreak: 'break-all' }}>{release.commit ?? 'not resolved yet'}</span> },
          { label: 'Trigger', children: release.trigger },
          { label: 'Started', children: new Date(release.startedAt * 1000).toLocaleString() },
          { label: 'Duration', children: releaseDuration(release, now) },
        ]}
      />
      <Typography.Paragraph strong>Status timeline</Typography.Paragraph>
      <StatusTimeline items={release.timeline} />
      <Typography.Paragraph strong>Log</Typography.Paragraph>
      <LogView deploymentId={deploymentId} release={release.number} />
    </div>
  );
}
