import { MemoryLogger } from '@kraken/common';
import { eventually } from '@kraken/testing';
import { Agent } from './agent.js';
import type { Executor } from './executor.js';

function recorder(name: string, calls: string[], behaviour: Partial<Record<'setup' | 'tick' | 'stop', () => Promise<void>>> = {}): Executor {
  return {
    name,
    setup: async () => {
      calls.push(`${name}.setup`);
      await behaviour.setup?.();
    },
    tick: async () => {
      calls.push(`${name}.tick`);
      await behaviour.tick?.();
    },
    stop: async () => {
      calls.push(`${name}.stop`);
      await behaviour.stop?.();
    },
  };
}

describe('Agent run loop', () => {
  it('sets executors up in order and stops them in reverse order', async () => {
    const calls: string[] = [];
    const agent = new Agent({ executors: [recorder('broker', calls), recorder('worker', calls)], logger: new MemoryLogger(), tickIntervalMs: 60_000 });
    await agent.start();
    await agent.stop();
    expect(calls).toEqual(['broker.setup', 'worker.setup', 'worker.stop', 'broker.stop']);
  });

  it('stops what was set up when a later executor fails to start, and rethrows', async () => {
    const calls: string[] = [];
    const agent = new Agent({
      executors: [recorder('broker', calls), recorder('api', calls, { setup: () => Promise.reject(new Error('port 4000 is taken')) }), recorder('worker', calls)],
      logger: new MemoryLogger(),
    });
    await expect(agent.start()).rejects.toThrow('port 4000 is taken');
    expect(calls).toEqual(['broker.setup', 'api.setup', 'broker.stop']);
  });

  it('keeps ticking the others when one tick throws', async () => {
    const calls: string[] = [];
    const logger = new MemoryLogger();
    const agent = new Agent({
      executors: [recorder('flaky', calls, { tick: () => Promise.reject(new Error('boom')) }), recorder('steady', calls)],
      logger,
      tickIntervalMs: 5,
    });
    await agent.start();
    await eventually(() => calls.filter((call) => call === 'steady.tick').length >= 3, 5000, 'three steady ticks', 5);
    await agent.stop();
    expect(calls.filter((call) => call === 'steady.tick').length).toBeGreaterThanOrEqual(3);
    expect(logger.records.some((record) => record.message === 'executor tick failed')).toBe(true);
  });

  it('moves on from an executor that does not stop in time, and stop() is idempotent', async () => {
    const calls: string[] = [];
    const agent = new Agent({
      executors: [recorder('broker', calls), recorder('stuck', calls, { stop: () => new Promise(() => undefined) })],
      logger: new MemoryLogger(),
      stopBudgetMs: 20,
      lateStopMs: 10,
    });
    await agent.start();
    await Promise.all([agent.stop(), agent.stop()]);
    expect(calls).toEqual(['broker.setup', 'stuck.setup', 'stuck.stop', 'broker.stop']);
  });

  it('stops within one budget however many executors hang, and each still gets its turn', async () => {
    const calls: string[] = [];
    const hangs = () => new Promise<void>(() => undefined);
    const agent = new Agent({
      executors: [recorder('store', calls), recorder('api', calls, { stop: hangs }), recorder('worker', calls, { stop: hangs })],
      logger: new MemoryLogger(),
      stopBudgetMs: 100,
      lateStopMs: 10,
    });
    await agent.start();
    const startedAt = Date.now();
    await agent.stop();
    // the worker spends the budget, the api gets only the late share: not 2 x 100 ms
    expect(Date.now() - startedAt).toBeLessThan(180);
    expect(calls.filter((call) => call.endsWith('.stop'))).toEqual(['worker.stop', 'api.stop', 'store.stop']);
  });
});
