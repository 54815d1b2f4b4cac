import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Input, Space, Switch, Typography } from 'antd';
import { CloseCircleFilled, DownloadOutlined, SearchOutlined } from '@ant-design/icons';
import { LogLinesDocument, LogsDocument } from '../api/generated.js';
import type { LogLine } from '../api/types.js';
import { subscribe } from '../api/live.js';
import { filterLines, mergeLines } from '../format.js';
import { useCluster } from '../store.js';

const pageSize = 500;

/**
 * A deployment's log (with `release`, only the lines of that release): the stored pages first, then
 * live batches from logLines. Paused, new lines are kept but not shown until resumed; follow keeps
 * the newest line in view.
 */
export function LogView({ deploymentId, release }: { deploymentId: string; release?: number }) {
  const { request, live } = useCluster();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [shown, setShown] = useState<LogLine[]>([]);
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [error, setError] = useState<string>();
  const [loaded, setLoaded] = useState(false);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let stale = false;
    setLines([]);
    setLoaded(false);
    const loadAll = async () => {
      let after = 0;
      for (;;) {
        const page = await request(LogsDocument, { deploymentId, after, limit: pageSize, release: release ?? null });
        if (stale) return;
        setLines((current) => mergeLines(current, page.logs.lines));
        if (page.logs.lines.length < pageSize) break;
        after = page.logs.next;
      }
    };
    loadAll()
      .catch((failure: unknown) => {
        if (!stale) setError((failure as Error).message);
      })
      .finally(() => {
        if (!stale) setLoaded(true);
      });
    return () => {
      stale = true;
    };
  }, [deploymentId, release, request]);

  useEffect(() => {
    if (live === undefined) return;
    return subscribe(
      live,
      LogLinesDocument,
      { deploymentId },
      (data) => {
        const incoming = release === undefined ? data.logLines : data.logLines.filter((line) => line.release === release);
        setLines((current) => mergeLines(current, incoming));
      },
      (message) => {
        setError(`Live log failed: ${message}`);
      },
    );
  }, [live, deploymentId, release]);

  useEffect(() => {
    if (!paused) setShown(lines);
  }, [lines, paused]);

  const visible = useMemo(() => filterLines(shown, search), [shown, search]);

  useEffect(() => {
    const element = box.current;
    if (follow && element !== null) element.scrollTop = element.scrollHeight;
  }, [visible, follow]);

  const download = () => {
    const text = lines.map((l) => `${new Date(l.time * 1000).toISOString()} ${l.stream} ${l.text}`).join('\n');
    const url = URL.createObjectURL(new Blob([text + '\n'], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = release === undefined ? `${deploymentId}.log` : `${deploymentId}-release-${String(release)}.log`;
    a.click();
    URL.revokeObjectURL(url);
  };

  return (
    <div>
      <Space wrap style={{ marginBottom: 8 }}>
        <Input
          type="search"
          placeholder="Search the log"
          aria-label="Search the log"
          prefix={<SearchOutlined aria-hidden="true" />}
          allowClear={{ clearIcon: <CloseCircleFilled aria-label="Clear the search" /> }}
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
          }}
          style={{ width: 240 }}
        />
        <Space>
          <Switch checked={follow} onChange={setFollow} aria-label="Follow" /> Follow
        </Space>
        <Button
          onClick={() => {
            setPaused((p) => !p);
          }}
          aria-pressed={paused}
        >
          {paused ? `Resume (${lines.length - shown.length} new)` : 'Pause'}
        </Button>
        <Button icon={<DownloadOutlined />} onClick={download} disabled={lines.length === 0}>
          Download
        </Button>
      </Space>
      {error !== undefined && <Alert type="error" showIcon title={error} style={{ marginBottom: 8 }} />}
      {/* a log (a named region screen readers can find); focusable, so the keyboard can scroll it */}
      <pre
        ref={box}
        role="log"
        aria-live="off"
        tabIndex={0}
        aria-label={release === undefined ? 'Deployment log' : `Log of release ${String(release)}`}
        data-testid={release === undefined ? 'log' : 'release-log'}
        style={{ background: '#141414', color: '#e8e8e8', padding: 12, height: 360, overflow: 'auto', fontSize: 12, margin: 0, whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}
      >
        {visible.map((l) => (
          <div key={l.seq} data-stream={l.stream}>
            <span style={{ color: l.stream === 'stderr' ? '#ff7875' : '#8c8c8c' }}>{l.stream.padEnd(6)} </span>
            {l.text}
          </div>
        ))}
      </pre>
      {loaded && lines.length === 0 && <Typography.Text type="secondary">No log lines yet; they appear here as they are written.</Typography.Text>}
    </div>
  );
}
