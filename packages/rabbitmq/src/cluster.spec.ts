import { ErrorCode, KrakenError, MemoryLogger } from '@kraken/common';
import { isForgottenByCluster, joinCluster } from './cluster.js';

describe('isForgottenByCluster', () => {
  it('recognises only the inconsistent-cluster refusal', () => {
    expect(isForgottenByCluster(new Error("Node 'kraken-a@10.0.0.1' thinks it's clustered with node 'kraken-b@10.0.0.2', but 'kraken-b@10.0.0.2' disagrees"))).toEqual({
      by: 'kraken-b@10.0.0.2',
    });
    expect(isForgottenByCluster(new Error('exited (1) before it was ready'))).toBeUndefined();
  });
});

/**
 * A node whose rabbitmqctl answers from a script: `fails` lists, per command, the errors its
 * successive runs throw (then it succeeds). Records every command and every pause.
 */
function scriptedNode(fails: Partial<Record<string, string[]>>) {
  const commands: string[] = [];
  const pauses: number[] = [];
  let loggedIn = 0;
  const server = {
    nodeName: 'kraken-b@10.0.0.2',
    ctl(args: readonly string[]): Promise<string> {
      const command = args[0] ?? '';
      commands.push(command);
      if (command === 'cluster_status') return Promise.resolve(JSON.stringify({ disk_nodes: ['kraken-b@10.0.0.2'], running_nodes: ['kraken-b@10.0.0.2'] }));
      const failure = fails[command]?.shift();
      if (failure !== undefined) return Promise.reject(new KrakenError(ErrorCode.Unavailable, failure));
      return Promise.resolve('');
    },
    queues: () => Promise.resolve(''),
    waitForLogin(): Promise<void> {
      loggedIn++;
      return Promise.resolve();
    },
  };
  const sleep = (ms: number) => {
    pauses.push(ms);
    return Promise.resolve();
  };
  return { server, sleep, commands, pauses, loggedIn: () => loggedIn };
}

const seed = 'kraken-a@10.0.0.1';

describe('joinCluster', () => {
  it('runs start_app again after a failure, warning with the reason, and joins', async () => {
    const node = scriptedNode({ start_app: ['start_app failed (exit code 70: Error: {:rabbit, {:timeout_waiting_for_tables}})'] });
    const logger = new MemoryLogger();

    await joinCluster(node.server, seed, { logger, sleep: node.sleep, retryDelayMs: 100 });

    expect(node.commands).toEqual(['cluster_status', 'stop_app', 'join_cluster', 'start_app', 'start_app']);
    expect(node.pauses).toEqual([100]);
    expect(node.loggedIn()).toBe(1);
    expect(logger.records.map(({ level, fields }) => ({ level, attempt: fields['attempt'], of: fields['of'], reason: fields['reason'] }))).toEqual([
      { level: 'warn', attempt: 1, of: 4, reason: 'start_app failed (exit code 70: Error: {:rabbit, {:timeout_waiting_for_tables}})' },
    ]);
  });

  it('gives up after the bounded attempts, with a growing pause, naming every reason', async () => {
    const node = scriptedNode({ start_app: ['first reason', 'second reason', 'third reason', 'never reached'] });
    const logger = new MemoryLogger();

    const failure = await joinCluster(node.server, seed, { logger, sleep: node.sleep, startAttempts: 3, retryDelayMs: 100 }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(KrakenError);
    expect((failure as Error).message).toBe(
      `RabbitMQ node kraken-b@10.0.0.2 did not start after joining ${seed}'s cluster, in 3 attempts: (1) first reason; (2) second reason; (3) third reason`,
    );
    expect(node.commands.filter((command) => command === 'start_app')).toHaveLength(3);
    expect(node.pauses).toEqual([100, 200]);
    expect(logger.records.map((record) => record.fields['reason'])).toEqual(['first reason', 'second reason']);
    expect(node.loggedIn()).toBe(0);
  });

  it('starts the node again after a failed join_cluster and fails with the join reason', async () => {
    const node = scriptedNode({ join_cluster: ['join_cluster failed (exit code 69: Error: mnesia_not_running)'] });

    await expect(joinCluster(node.server, seed, { sleep: node.sleep })).rejects.toThrow('join_cluster failed (exit code 69: Error: mnesia_not_running)');
    expect(node.commands).toEqual(['cluster_status', 'stop_app', 'join_cluster', 'start_app']);
  });

  it('names both reasons when neither join_cluster nor start_app succeeds', async () => {
    const node = scriptedNode({ join_cluster: ['the join reason'], start_app: ['the start reason'] });

    await expect(joinCluster(node.server, seed, { sleep: node.sleep, startAttempts: 1 })).rejects.toThrow(
      /^the join reason; starting the node again after it failed: .*\(1\) the start reason$/,
    );
  });

  it('does nothing on a node that is a member already', async () => {
    const node = scriptedNode({});
    await joinCluster(node.server, 'kraken-b@10.0.0.2');
    expect(node.commands).toEqual(['cluster_status']);
  });

  it('refuses a start attempt count below one', async () => {
    const node = scriptedNode({});
    await expect(joinCluster(node.server, seed, { startAttempts: 0 })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
  });
});
