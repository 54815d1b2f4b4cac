import { tempDir } from '@kraken/testing';
import { processAlive as alive } from '../test/fixtures.js';
import { runCommand } from './commands.js';

const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };


describe('runCommand', () => {
  it('streams stdout and stderr by line and reports the exit code with the last lines', async () => {
    await using dir = await tempDir('kraken-command-');
    const seen: string[] = [];
    const outcome = await runCommand(['/bin/sh', '-c', 'echo one; echo two >&2; echo three; exit 4'], {
      cwd: dir.path,
      env,
      timeoutMs: 10_000,
      tailLines: 2,
      onLine: (stream, text) => seen.push(`${stream}:${text}`),
    });
    expect(outcome).toEqual({ kind: 'exited', exitCode: 4, tail: expect.any(Array) as unknown });
    expect(outcome.tail).toHaveLength(2);
    expect(seen).toEqual(expect.arrayContaining(['stdout:one', 'stderr:two', 'stdout:three']));
  });

  it('kills the whole command, children included, when it runs past its time limit', async () => {
    await using dir = await tempDir('kraken-command-');
    const lines: string[] = [];
    const outcome = await runCommand(['/bin/sh', '-c', 'sleep 60 & echo child $!; wait'], {
      cwd: dir.path,
      env,
      timeoutMs: 500,
      tailLines: 5,
      onLine: (_stream, text) => lines.push(text),
    });
    expect(outcome.kind).toBe('timeout');
    const child = Number(/child (\d+)/.exec(lines.join('\n'))?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(alive(child)).toBe(false);
  });

  it('kills the whole command, children included, when its signal is aborted (the deployer closing)', async () => {
    await using dir = await tempDir('kraken-command-');
    const lines: string[] = [];
    const closing = new AbortController();
    const outcome = runCommand(['/bin/sh', '-c', 'sleep 60 & echo child $!; wait'], {
      cwd: dir.path,
      env,
      timeoutMs: 60_000,
      tailLines: 5,
      signal: closing.signal,
      onLine: (_stream, text) => {
        lines.push(text);
        closing.abort();
      },
    });
    expect((await outcome).kind).toBe('aborted');
    const child = Number(/child (\d+)/.exec(lines.join('\n'))?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(alive(child)).toBe(false);
    // an aborted signal starts nothing
    expect(await runCommand(['/bin/sh', '-c', 'exit 0'], { cwd: dir.path, env, timeoutMs: 5000, tailLines: 5, signal: closing.signal })).toEqual({ kind: 'aborted', tail: [] });
  });

  it('kills what the command left running in the background when it ends', async () => {
    await using dir = await tempDir('kraken-command-');
    const lines: string[] = [];
    const outcome = await runCommand(['/bin/sh', '-c', 'sleep 60 > /dev/null 2>&1 & echo left $!'], {
      cwd: dir.path,
      env,
      timeoutMs: 10_000,
      tailLines: 5,
      onLine: (_stream, text) => lines.push(text),
    });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    const straggler = Number(/left (\d+)/.exec(lines.join('\n'))?.[1]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive(straggler)).toBe(false);
  });

  it('reports a program that is not installed as not started', async () => {
    await using dir = await tempDir('kraken-command-');
    const outcome = await runCommand(['kraken-no-such-program'], { cwd: dir.path, env, timeoutMs: 5000, tailLines: 5 });
    expect(outcome).toMatchObject({ kind: 'not-started', error: { code: 'ENOENT' } });
  });
});
