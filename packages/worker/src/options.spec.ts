import { Queues } from '@kraken/messages';
import { compileWorkerOptions, defaultConcurrency } from './options.js';

describe('compileWorkerOptions', () => {
  it('fills the documented defaults', () => {
    expect(compileWorkerOptions('node-a', { cores: 8 })).toEqual({
      queues: { orchestrator: Queues.Orchestrator, telemetry: Queues.OrchestratorTelemetry, node: 'kraken.node.node-a' },
      heartbeatIntervalMs: 2_000,
      statsIntervalMs: 10_000,
      idleStatsIntervalMs: 60_000,
      logFlushLines: 500,
      logFlushIntervalMs: 200,
      logBufferLines: 20_000,
      logBatchBytes: 512 * 1024,
      maxConcurrentDeploys: 4,
      publicHost: undefined,
      logRefollowDelayMs: 1_000,
      enginePingTimeoutMs: 2_000,
      orchestrationPriority: undefined,
      nodeInfoExtensionsTimeoutMs: 1_000,
      failoverBuilds: true,
      crashLoop: { failAfterRestarts: 5, steadyAfterMs: 60_000 },
      ready: { intervalMs: 5_000, probeTimeoutMs: 3_000, failuresBeforeUnready: 3 },
    });
  });

  it('keeps a ready check shorter than its interval, so checks of a hung app cannot pile up', () => {
    expect(compileWorkerOptions('n', { readyCheckInterval: '1s', readyCheckTimeout: '5s' }).ready).toEqual({ intervalMs: 1_000, probeTimeoutMs: 1_000, failuresBeforeUnready: 3 });
  });

  it('runs one build at a time on two cores or fewer, else half the cores', () => {
    expect([1, 2, 3, 4, 16].map(defaultConcurrency)).toEqual([1, 1, 1, 2, 8]);
  });

  it('takes durations as strings and queue overrides', () => {
    const compiled = compileWorkerOptions('n', { heartbeatInterval: '5s', logFlushInterval: 50, queues: { node: 'test.node' } });
    expect(compiled.heartbeatIntervalMs).toBe(5_000);
    expect(compiled.logFlushIntervalMs).toBe(50);
    expect(compiled.queues.node).toBe('test.node');
  });

  it.each([
    [{ logFlushLines: 6000 }, /logFlushLines must be an integer from 1 to 5000, got 6000/],
    [{ logFlushLines: 100, logBufferLines: 50 }, /logBufferLines must be an integer from 100/],
    [{ heartbeatInterval: 'soon' }, /heartbeatInterval: invalid duration "soon"/],
    [{ maxConcurrentDeploys: 0 }, /maxConcurrentDeploys must be an integer from 1/],
    [{ publicHost: 'http://x' }, /publicHost must be a host name or IP address/],
    [{ nodeInfoExtensionsTimeout: 0 }, /nodeInfoExtensionsTimeout must be at least 1 ms, got 0 ms/],
    [{ readyCheckInterval: 5 }, /readyCheckInterval must be at least 10 ms, got 5 ms/],
    [{ readyCheckFailures: 0 }, /readyCheckFailures must be an integer from 1 to 1000, got 0/],
  ])('refuses %j naming the option', (options, message) => {
    expect(() => compileWorkerOptions('n', options)).toThrow(message);
  });

  it('refuses a node id that cannot name a queue', () => {
    expect(() => compileWorkerOptions('bad id')).toThrow(/nodeId/);
  });
});
