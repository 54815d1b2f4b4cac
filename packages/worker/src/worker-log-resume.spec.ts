import { MessageType } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import type { Deployment } from '@kraken/runtime';
import { FakeDeployer } from '../test/fake-deployer.js';
import type { Harness } from '../test/harness.js';
import { startHarness } from '../test/harness.js';
import type { LogCursorStore } from './log-cursors.js';

/** The store's contract in memory: what an earlier run left, and what this one records and forgets. */
class MemoryCursors implements LogCursorStore {
  readonly recorded = new Map<string, string>();
  readonly forgotten: string[] = [];
  flushed = 0;

  constructor(private readonly earlier: Record<string, string> = {}) {}

  load(): Promise<Map<string, string>> {
    return Promise.resolve(new Map(Object.entries(this.earlier)));
  }

  record(deploymentId: string, cursor: string): void {
    this.recorded.set(deploymentId, cursor);
  }

  forget(deploymentId: string): Promise<void> {
    this.recorded.delete(deploymentId);
    this.forgotten.push(deploymentId);
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.flushed++;
    return Promise.resolve();
  }
}

const running = (deploymentId: string): Deployment => ({
  deploymentId,
  instanceId: `c-${deploymentId}`,
  instanceName: `kraken-${deploymentId}`,
  artifact: `kraken/app:${deploymentId}`,
  appName: 'app',
  commit: 'b'.repeat(40),
  state: 'running',
  port: 3000,
  hostPort: 20_555,
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Worker: logs across a restart', () => {
  it('resumes a taken-over app after the cursor its previous run recorded; one without a cursor from now', async () => {
    const deployer = new FakeDeployer();
    deployer.containers.set('survivor', running('survivor'));
    deployer.containers.set('newcomer', running('newcomer'));
    const cursors = new MemoryCursors({ survivor: 'line-41', gone: 'line-9' });
    h = await startHarness({ deployer, logCursors: cursors });
    const { followCalls } = deployer;
    await eventuallyPasses(
      () => {
        expect(followCalls).toHaveLength(2);
      },
      3_000,
      5,
    );
    expect(followCalls.find((call) => call.deploymentId === 'survivor')?.options.after).toBe('line-41');
    expect(followCalls.find((call) => call.deploymentId === 'newcomer')?.options).not.toHaveProperty('after');
    // an app that ended while no worker ran leaves no cursor behind
    expect(cursors.forgotten).toEqual(['gone']);
  });

  it('records the cursor of the last line of each batch the broker confirmed, and forgets it when the deployment goes', async () => {
    const deployer = new FakeDeployer();
    deployer.containers.set('app-1', running('app-1'));
    const cursors = new MemoryCursors();
    const harness = (h = await startHarness({ deployer, logCursors: cursors }));
    await eventuallyPasses(
      () => {
        expect(deployer.followers.has('app-1')).toBe(true);
      },
      3_000,
      5,
    );
    deployer.printAt('app-1', 'one', 'line-1');
    deployer.printAt('app-1', 'two', 'line-2');
    await eventuallyPasses(
      () => {
        expect(cursors.recorded.get('app-1')).toBe('line-2');
        // the broker confirmed them, and its consumer has them a moment later
        expect(harness.logs('app-1').flatMap((batch) => batch.lines.map((line) => line.text))).toEqual(['one', 'two']);
      },
      3_000,
      5,
    );

    await harness.send(MessageType.DeployStop, { deploymentId: 'app-1' });
    await eventuallyPasses(
      () => {
        expect(harness.statusesOf('app-1').at(-1)).toBe('Destroyed');
      },
      3_000,
      5,
    );
    expect(cursors.forgotten).toEqual(['app-1']);
    expect(cursors.recorded.has('app-1')).toBe(false);
  });

  it('a stopped worker writes the cursors still waiting, so a clean restart resends nothing', async () => {
    const cursors = new MemoryCursors();
    const harness = (h = await startHarness({ logCursors: cursors }));
    await harness.worker.stop();
    expect(cursors.flushed).toBe(1);
  });

  it('counts the lines a bounded resume skipped as dropped, in the next batch and the stats', async () => {
    const deployer = new FakeDeployer();
    deployer.containers.set('app-1', running('app-1'));
    deployer.skipOnFollow.set('app-1', 7);
    const harness = (h = await startHarness({ deployer, logCursors: new MemoryCursors({ 'app-1': 'line-3' }) }));
    await eventuallyPasses(
      () => {
        expect(deployer.followers.has('app-1')).toBe(true);
      },
      3_000,
      5,
    );
    deployer.printAt('app-1', 'after the gap', 'line-11');
    await eventuallyPasses(
      () => {
        expect(harness.logs('app-1')).toHaveLength(1);
      },
      3_000,
      5,
    );
    expect(harness.logs('app-1')[0]).toMatchObject({ dropped: 7, lines: [expect.objectContaining({ text: 'after the gap' })] });
    expect(harness.worker.stats().logLinesDropped).toBe(7);
  });

  it('holds the reading of the log while its buffer lacks room for another read, and lets it go on once sent', async () => {
    const deployer = new FakeDeployer();
    deployer.containers.set('app-1', running('app-1'));
    const harness = (h = await startHarness({
      deployer,
      options: { logBufferLines: 10, logFlushLines: 10, logFlushInterval: 50 },
    }));
    await eventuallyPasses(
      () => {
        expect(deployer.followers.has('app-1')).toBe(true);
      },
      3_000,
      5,
    );
    const isFull = deployer.followCalls[0]?.options.isFull;
    expect(isFull?.()).toBe(false);
    deployer.print('app-1', 'a', 'b', 'c', 'd', 'e', 'f');
    // room for 4 more, less than a read may bring (half the buffer here)
    expect(isFull?.()).toBe(true);
    await eventuallyPasses(
      () => {
        expect(harness.logs('app-1').flatMap((batch) => batch.lines)).toHaveLength(6);
      },
      3_000,
      5,
    );
    expect(isFull?.()).toBe(false);
  });
});
