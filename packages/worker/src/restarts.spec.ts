import { RestartCounter } from './restarts.js';

const policy = { failAfterRestarts: 3, steadyAfterMs: 60_000 };
const T0 = Date.parse('2026-12-06T12:00:00.000Z');

describe('RestartCounter', () => {
  it('reports an exit as crash-looping with the code and how long the run lasted, before the restart', () => {
    const counter = new RestartCounter(policy, T0);
    expect(counter.exit({ atMs: T0 + 3000, code: 1 })).toEqual({
      kind: 'report',
      restarts: { count: 0, looping: true, lastExit: { code: 1, at: '2026-12-06T12:00:03.000Z', reason: 'exited with code 1 after 3.0 s' } },
      message: 'crash-looping: the app exited with code 1 after 3.0 s; restarting it (0 restarts so far)',
    });
  });

  it("adds the runtime's cause to the exit it reports: the memory limit the kernel ended the app at", () => {
    const counter = new RestartCounter(policy, T0);
    expect(counter.exit({ atMs: T0 + 1200, code: 137, cause: 'it went past its memory limit of 64 MB' })).toMatchObject({
      kind: 'report',
      message: 'crash-looping: the app exited with code 137 (SIGKILL): it went past its memory limit of 64 MB after 1.2 s; restarting it (0 restarts so far)',
    });
  });

  it('counts the start that follows an exit as a restart, and ignores a start that follows none', () => {
    const counter = new RestartCounter(policy, T0);
    expect(counter.start(T0 + 10)).toBeUndefined();
    counter.exit({ atMs: T0 + 3000, signal: 'SIGKILL' });
    const verdict = counter.start(T0 + 4000);
    expect(verdict).toMatchObject({ kind: 'report', restarts: { count: 1, looping: true, lastExit: { signal: 'SIGKILL', reason: 'was killed by SIGKILL after 3.0 s' } } });
    expect(verdict?.kind === 'report' && verdict.message).toBe('crash-looping: restarted (restart 1) after the app was killed by SIGKILL after 3.0 s');
    expect(counter.start(T0 + 4001)).toBeUndefined();
    expect(counter.snapshot().count).toBe(1);
  });

  it('gives up once failAfterRestarts restarts in a row ended before running steadily, naming the last exit', () => {
    const counter = new RestartCounter(policy, T0);
    let at = T0;
    const verdicts = [];
    for (let run = 0; run < 4; run++) {
      at += 3000;
      verdicts.push(counter.exit({ atMs: at, code: 1 }));
      at += 500;
      counter.start(at);
    }
    expect(verdicts.map((verdict) => verdict.kind)).toEqual(['report', 'report', 'report', 'give-up']);
    expect(verdicts[3]).toEqual({
      kind: 'give-up',
      restarts: { count: 3, looping: true, lastExit: expect.objectContaining({ code: 1 }) as unknown },
      reason: 'crash loop: the app exited with code 1 after 3.0 s, and 3 restarts in a row ended the same way before it ran 60 s; stopped it',
    });
  });

  it('starts the failures over after a steady run, so an app that crashes rarely is never given up on', () => {
    const counter = new RestartCounter(policy, T0);
    let at = T0;
    for (let run = 0; run < 10; run++) {
      at += 61_000;
      expect(counter.exit({ atMs: at, code: 1 }).kind).toBe('report');
      at += 1000;
      counter.start(at);
    }
    expect(counter.snapshot().count).toBe(10);
  });

  it('says a crash-looping app recovered once its run is steady, and not before', () => {
    const counter = new RestartCounter(policy, T0);
    counter.exit({ atMs: T0 + 3000, code: 1 });
    counter.start(T0 + 4000);
    expect(counter.steadyAtMs()).toBe(T0 + 64_000);
    expect(counter.steady(T0 + 63_999)).toBeUndefined();
    expect(counter.steady(T0 + 64_000)).toMatchObject({ kind: 'report', restarts: { count: 1, looping: false }, message: 'running steadily again for 60 s after 1 restart' });
    expect(counter.steady(T0 + 90_000)).toBeUndefined();
  });

  it('names the signal behind a code above 128, as a container reports a killed app', () => {
    const counter = new RestartCounter(policy, T0);
    const verdict = counter.exit({ atMs: T0 + 3000, code: 137 });
    expect(verdict.restarts.lastExit?.reason).toBe('exited with code 137 (SIGKILL) after 3.0 s');
  });

  it('does not call an app steady while it is down between an exit and its restart', () => {
    const counter = new RestartCounter(policy, T0);
    counter.exit({ atMs: T0 + 3000, code: 1 });
    expect(counter.steady(T0 + 600_000)).toBeUndefined();
  });
});
