import {
  canCancel,
  canRemove,
  countByStatus,
  filterLines,
  formatAge,
  formatExtensionValue,
  formatMb,
  canRestart,
  canStart,
  canStop,
  isSettled,
  mergeLines,
  nodeDeploymentIds,
  leaderMoveMessage,
  leaderMoveOf,
  nodeRole,
  nodeRuntime,
  parseEnv,
  standbysOf,
  restartsSummary,
  failoverSummary,
  statusColor,
  statusLabel,
  statusTag,
} from './format.js';

describe('node presentation', () => {
  it('names the acting orchestrator the leader, other nodes that may lead standbys, and the rest workers', () => {
    const nodes = [
      { id: 'a', orchestrationPriority: 0 },
      { id: 'c', orchestrationPriority: 1 },
      { id: 'b', orchestrationPriority: 1 },
      { id: 'd', orchestrationPriority: 2 },
      { id: 'e', orchestrationPriority: null },
    ];
    expect(nodes.map((node) => nodeRole(node, 'a'))).toEqual(['leader', 'standby', 'standby', 'worker', 'worker']);
    expect(standbysOf(nodes, 'a').map((node) => node.id)).toEqual(['b', 'c']);
    // b took over: it leads, and the former leader, back, stands by
    expect(nodes.map((node) => nodeRole(node, 'b'))).toEqual(['standby', 'standby', 'leader', 'worker', 'worker']);
    expect(standbysOf([{ id: 'a', orchestrationPriority: 0 }, { id: 'e', orchestrationPriority: null }], 'a')).toEqual([]);
  });

  it('says which runtime a node runs and what it enforces, and none when its engine is down', () => {
    expect(nodeRuntime({ runtimes: ['process'], isolation: "runs as the agent's user, no limits" })).toEqual({ runtime: 'process', enforces: "runs as the agent's user, no limits" });
    expect(nodeRuntime({ runtimes: ['docker'], isolation: 'container, limits' })).toEqual({ runtime: 'docker', enforces: 'container, limits' });
    expect(nodeRuntime({ runtimes: [], isolation: 'container, limits' })).toEqual({ runtime: 'none', enforces: undefined });
    expect(nodeRuntime({ runtimes: ['docker'], isolation: null })).toEqual({ runtime: 'docker', enforces: undefined });
  });

  it('says where the leader moved, and only when it did', () => {
    expect(leaderMoveOf(undefined, 'agent-1')).toBeUndefined();
    expect(leaderMoveOf('agent-1', 'agent-1')).toBeUndefined();
    const move = leaderMoveOf('agent-1', 'agent-2');
    expect(move).toEqual({ from: 'agent-1', to: 'agent-2' });
    expect(move && leaderMoveMessage(move)).toBe('The leader moved: agent-2 leads the cluster now (agent-1 did before). The page follows it: live updates come from agent-2.');
  });

  it("lists a node's reported and placed apps once each, sorted, without destroyed ones", () => {
    const node = { id: 'node-a', deployments: ['shop-2', 'blog-1'] };
    const deployments = [
      { id: 'blog-1', node: 'node-a', status: 'RUNNING' as const },
      { id: 'api-3', node: 'node-a', status: 'BUILDING_DEPLOYMENT' as const },
      { id: 'old-4', node: 'node-a', status: 'DESTROYED' as const },
      { id: 'else-5', node: 'node-b', status: 'RUNNING' as const },
    ];
    expect(nodeDeploymentIds(node, deployments)).toEqual(['api-3', 'blog-1', 'shop-2']);
    expect(nodeDeploymentIds({ id: 'node-c', deployments: [] }, deployments)).toEqual([]);
  });

  it('formats extension values by their type: rounded numbers, yes/no, text unchanged', () => {
    const number = (value: string) => formatExtensionValue({ value, type: 'number' });
    expect(['47.5', '12', '-3.14159', '0', '0.000123456', '1234567.891'].map(number)).toEqual([
      '47.5',
      '12',
      '-3.14',
      '0',
      '0.000123',
      '1234567.89',
    ]);
    expect(formatExtensionValue({ value: 'true', type: 'boolean' })).toBe('yes');
    expect(formatExtensionValue({ value: 'false', type: 'boolean' })).toBe('no');
    // text that looks like a number or a boolean stays text
    expect(formatExtensionValue({ value: '0.000123456', type: 'string' })).toBe('0.000123456');
    expect(formatExtensionValue({ value: 'true', type: 'string' })).toBe('true');
    // a type this UI does not know yet: shown as sent
    expect(formatExtensionValue({ value: '2025-11-25', type: 'date' })).toBe('2025-11-25');
  });
});

describe('status presentation', () => {
  it('turns enum values into sentence-case labels', () => {
    expect(statusLabel('RUNNING')).toBe('Running');
    expect(statusLabel('BUILDING_DEPLOYMENT')).toBe('Building deployment');
  });

  it('colours running green, errored red, destroyed grey and transitions as in progress', () => {
    expect(statusColor('RUNNING')).toBe('green');
    expect(statusColor('ERRORED')).toBe('red');
    expect(statusColor('DESTROYED')).toBe('default');
    expect(statusColor('DESTRUCTION_IN_PROGRESS')).toBe('orange');
    expect(statusColor('DEPLOYING')).toBe('processing');
  });

  it('knows which statuses are settled, which can be cancelled and which removed', () => {
    expect(isSettled('RUNNING')).toBe(true);
    expect(isSettled('DEPLOYING')).toBe(false);
    expect(isSettled('STOPPED')).toBe(true);
    expect(canCancel('RUNNING')).toBe(true);
    // an errored deployment runs nothing: it is removed, not cancelled
    expect(canCancel('ERRORED')).toBe(false);
    expect(canCancel('DESTROYED')).toBe(false);
    expect(canCancel('DESTRUCTION_REQUESTED')).toBe(false);
    expect(['RUNNING', 'DEPLOYING', 'DESTRUCTION_REQUESTED', 'ERRORED', 'DESTROYED'].filter((s) => canRemove(s as 'RUNNING'))).toEqual(['ERRORED', 'DESTROYED']);
  });

  it('counts deployments per status with zeros for absent ones', () => {
    const counts = countByStatus([{ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'ERRORED' }]);
    expect(counts.RUNNING).toBe(2);
    expect(counts.ERRORED).toBe(1);
    expect(counts.DESTROYED).toBe(0);
    // in lifecycle order, as the schema declares ApplicationStatus
    expect(Object.keys(counts)).toHaveLength(15);
    expect(Object.keys(counts).slice(0, 2)).toEqual(['DEPLOYMENT_REQUESTED', 'VALIDATING_DEPLOYMENT_DATA']);
    expect(Object.keys(counts).at(-1)).toBe('ERRORED');
  });
});

describe('formatting', () => {
  it('formats ages from seconds to days', () => {
    expect(formatAge(4.7)).toBe('4s');
    expect(formatAge(200)).toBe('3m 20s');
    expect(formatAge(7500)).toBe('2h 5m');
    expect(formatAge(3 * 86400 + 4 * 3600)).toBe('3d 4h');
    expect(formatAge(-3)).toBe('0s');
  });

  it('formats memory in MB or GB', () => {
    expect(formatMb(512)).toBe('512 MB');
    expect(formatMb(8000)).toBe('7.8 GB');
  });
});

describe('parseEnv', () => {
  it('reads NAME=value lines, keeping = in values and skipping blank lines', () => {
    expect(parseEnv('A=1\n\n  B_2=x=y  \n')).toEqual({ ok: true, env: [{ name: 'A', value: '1' }, { name: 'B_2', value: 'x=y' }] });
  });

  it('names the line and the rule for a bad name or a missing =', () => {
    expect(parseEnv('A=1\n1X=2')).toEqual({ ok: false, error: expect.stringMatching(/^line 2: expected NAME=value/) as unknown });
    expect(parseEnv('JUSTNAME')).toEqual({ ok: false, error: expect.stringMatching(/line 1: .*got "JUSTNAME"/) as unknown });
  });
});

describe('log lines', () => {
  const line = (seq: number, text = `l${seq}`) => ({ seq, text });

  it('filters by text, case-insensitive', () => {
    expect(filterLines([line(1, 'Listening'), line(2, 'hit /')], 'listen')).toEqual([line(1, 'Listening')]);
    expect(filterLines([line(1)], '  ')).toEqual([line(1)]);
  });

  it('merges pages and live batches without duplicates, in seq order', () => {
    expect(mergeLines([line(1), line(2)], [line(3)])).toEqual([line(1), line(2), line(3)]);
    expect(mergeLines([line(1), line(2)], [line(2), line(3)])).toEqual([line(1), line(2), line(3)]);
    expect(mergeLines([line(3)], [line(1), line(2)])).toEqual([line(1), line(2), line(3)]);
  });
});

describe('crash loops', () => {
  it('tags a RUNNING app that keeps crashing as crash-looping, and any other status as itself', () => {
    expect(statusTag('RUNNING', true)).toEqual({ label: 'Crash-looping', color: 'volcano' });
    expect(statusTag('RUNNING', false)).toEqual({ label: 'Running', color: 'green' });
    expect(statusTag('ERRORED', true)).toEqual({ label: 'Errored', color: 'red' });
  });

  it('tags a RUNNING app that does not answer as such, unless it crash-loops, and any other status as itself', () => {
    expect(statusTag('RUNNING', false, false)).toEqual({ label: 'Running, not answering', color: 'orange' });
    expect(statusTag('RUNNING', true, false)).toEqual({ label: 'Crash-looping', color: 'volcano' });
    expect(statusTag('STOPPED', false, false)).toEqual({ label: 'Stopped', color: statusTag('STOPPED').color });
  });

  it('sums up the restarts and how the app last ended, or nothing for an app that never ended', () => {
    const lastExit = { code: 1, signal: null, time: 1_765_000_003, reason: 'exited with code 1 after 3.0 s' };
    const at = (seconds: number): string => `t${String(seconds)}`;
    expect(restartsSummary({ restartCount: 3, lastExit }, at)).toBe('3 restarts; last exited with code 1 after 3.0 s, t1765000003');
    expect(restartsSummary({ restartCount: 0, lastExit }, at)).toBe('0 restarts; last exited with code 1 after 3.0 s, t1765000003');
    expect(restartsSummary({ restartCount: 1, lastExit: null }, at)).toBe('1 restart');
    expect(restartsSummary({ restartCount: 0, lastExit: null }, at)).toBeUndefined();
  });
});

describe('stop, start and restart', () => {
  it('offers Stop for a running app, Start for a stopped one, Restart for either, and none otherwise', () => {
    const offered = (status: Parameters<typeof canStop>[0]) => [canStop(status), canStart(status), canRestart(status)];
    expect(offered('RUNNING')).toEqual([true, false, true]);
    expect(offered('STOPPED')).toEqual([false, true, true]);
    for (const status of ['DEPLOYING', 'BUILDING_DEPLOYMENT', 'DESTROYED', 'ERRORED', 'DESTRUCTION_REQUESTED'] as const) expect(offered(status)).toEqual([false, false, false]);
  });
});

describe('failover builds', () => {
  const commit = '0123456789abcdef0123456789abcdef01234567';
  it('says what a move would cost in each state', () => {
    expect(failoverSummary({ node: 'pi-2', commit, state: 'ready' })).toBe('pi-2 holds a build of 0123456: if its node is lost, it starts there without a build');
    expect(failoverSummary({ node: 'pi-2', commit, state: 'building' })).toBe('pi-2 is building 0123456 in the background, so a move there is a start');
    expect(failoverSummary({ node: 'pi-2', commit, state: 'asked' })).toBe('pi-2 was asked to build 0123456 in the background');
    expect(failoverSummary({ node: 'pi-2', commit, state: 'failed', message: 'the build failed' })).toBe(
      'pi-2 could not build 0123456: the build failed; a move there would build it again',
    );
    expect(failoverSummary(null)).toBe('no other node can run it now: a move waits for one');
  });
});
