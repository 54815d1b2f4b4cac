import { ErrorCode, KrakenError, MemoryLogger } from '@kraken/common';
import { DeployStep } from './errors.js';
import type { DeployProgress } from './progress.js';
import { stepRunner } from './progress.js';

function recorder(): { events: DeployProgress[]; listener: (event: DeployProgress) => void } {
  const events: DeployProgress[] = [];
  return { events, listener: (event) => events.push(event) };
}

describe('stepRunner', () => {
  it('reports start, each line and an ok finish of a step, and returns what the step returns', async () => {
    const { events, listener } = recorder();
    const step = stepRunner('d1', listener, new MemoryLogger());

    const value = await step(DeployStep.Build, (line) => {
      line('build', 'Step 1/3');
      line('build', 'Step 2/3');
      return Promise.resolve(42);
    });

    expect(value).toBe(42);
    expect(events.map((event) => [event.kind, event.step, event.deploymentId])).toEqual([
      ['start', 'build', 'd1'],
      ['line', 'build', 'd1'],
      ['line', 'build', 'd1'],
      ['finish', 'build', 'd1'],
    ]);
    expect(events[1]).toMatchObject({ stream: 'build', text: 'Step 1/3' });
    expect(events[3]).toMatchObject({ ok: true });
  });

  it('tags a failing step error with the deployment and the step, and reports the failed finish with its message', async () => {
    const { events, listener } = recorder();
    const step = stepRunner('d1', listener, new MemoryLogger());

    const failure = step(DeployStep.Test, () => Promise.reject(new KrakenError(ErrorCode.InvalidInput, 'npm test exited with 1')));

    await expect(failure).rejects.toMatchObject({ code: ErrorCode.InvalidInput, deploymentId: 'd1', details: { step: 'test' } });
    expect(events.at(-1)).toMatchObject({ kind: 'finish', step: 'test', ok: false, message: 'npm test exited with 1' });
  });

  it('keeps the step an error names already, rather than the step it surfaced in', async () => {
    const step = stepRunner('d1', undefined, new MemoryLogger());
    const fromClone = new KrakenError(ErrorCode.NotFound, 'no branch main', { deploymentId: 'd1', details: { step: DeployStep.Clone } });

    await expect(step(DeployStep.Manifest, () => Promise.reject(fromClone))).rejects.toBe(fromClone);
  });

  it('normalises anything thrown into a KrakenError naming the step', async () => {
    const step = stepRunner('d1', undefined, new MemoryLogger());

    await expect(step(DeployStep.Run, () => Promise.reject(new Error('spawn ENOENT')))).rejects.toMatchObject({
      code: ErrorCode.Internal,
      deploymentId: 'd1',
      details: { step: 'run' },
    });
  });

  it('runs the deploy on when the progress listener throws, and logs the listener failure', async () => {
    const logger = new MemoryLogger();
    const step = stepRunner('d1', () => {
      throw new Error('listener bug');
    }, logger);

    await expect(step(DeployStep.Clone, () => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(logger.records.some((record) => record.message === 'progress listener threw; ignored')).toBe(true);
  });
});
