import { runCli } from './program.js';

async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await runCli(argv, { io: { out: () => undefined, err: (line) => err.push(line) }, env: {} });
  return { code, err: err.join('\n') };
}

describe('kraken option values', () => {
  it('refuses a --watch interval below half a second, saying what is allowed', async () => {
    const result = await cli('nodes', '--watch', '--interval', '0.1');
    expect(result.code).toBe(2);
    expect(result.err).toContain('--interval: expected a number of seconds >= 0.5, got "0.1"');
  });

  it('refuses an interval that is not a number', async () => {
    const result = await cli('nodes', '--watch', '--interval', 'soon');
    expect(result.code).toBe(2);
    expect(result.err).toContain('got "soon"');
  });

  it('refuses --watch with --json, pointing to polling', async () => {
    const result = await cli('nodes', '--watch', '--json', '--api', 'http://127.0.0.1:9', '--token', 't');
    expect(result.code).toBe(2);
    expect(result.err).toContain('poll kraken nodes --json');
  });

  it('says why a --tail is refused instead of exiting silently', async () => {
    const result = await cli('logs', 'blog-1', '--tail', '0');
    expect(result.code).toBe(2);
    expect(result.err).toContain('--tail: expected a positive whole number, got "0"');
  });
});
