import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, KrakenError, createLogger } from '@kraken/common';
import { ExitCode } from '../client/exit-codes.js';
import { CONTROL_SOCKET, ControlExecutor } from '../executors/control-executor.js';
import type { PromotionReport } from '../executors/control-executor.js';
import { promoteCommand } from './promote.js';

// The CLI and the agent's control socket talk for real (a Unix socket in a temporary data dir);
// only what the agent does to promote itself is stood in for: the cluster specs run that.

const logger = createLogger({ level: 'error' });

describe('kraken promote over the control socket', () => {
  let dataDir: string;
  let control: ControlExecutor | undefined;
  const lines: { out: string[]; err: string[] } = { out: [], err: [] };
  const io = { out: (line: string) => lines.out.push(line), err: (line: string) => lines.err.push(line) };

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kraken-promote-'));
    lines.out = [];
    lines.err = [];
  });

  afterEach(async () => {
    await control?.stop();
    control = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  const serve = async (promote: () => Promise<PromotionReport>) => {
    control = new ControlExecutor({ dataDir, promote, logger });
    await control.setup();
  };

  it('prints who leads now and whom the cluster went on without', async () => {
    await serve(() => Promise.resolve({ nodeId: 'b', leftOut: ['kraken-a@10.0.0.1'], tookMs: 8_400 }));
    expect((await stat(path.join(dataDir, CONTROL_SOCKET))).mode & 0o777).toBe(0o600);

    await expect(promoteCommand({ dataDir, json: false }, io)).resolves.toBe(ExitCode.Ok);

    expect(lines.out[0]).toBe('b leads the cluster now (took 8.4 s); it went on without kraken-a@10.0.0.1.');
    expect(lines.err[0]).toMatch(/messages queued only on the other machine are dropped/);
  });

  it('answers JSON with --json', async () => {
    await serve(() => Promise.resolve({ nodeId: 'b', leftOut: [], tookMs: 1 }));
    await expect(promoteCommand({ dataDir, json: true }, io)).resolves.toBe(ExitCode.Ok);
    expect(JSON.parse(lines.out[0] ?? '')).toEqual({ nodeId: 'b', leftOut: [], tookMs: 1 });
  });

  it("passes on the agent's refusal with its reason, exit 1", async () => {
    await serve(() =>
      Promise.reject(new KrakenError(ErrorCode.Conflict, "the other machine's RabbitMQ node (kraken-a@10.0.0.1) still runs")),
    );
    await expect(promoteCommand({ dataDir, json: false }, io)).resolves.toBe(ExitCode.Failed);
    expect(lines.err.at(-1)).toBe("kraken: the other machine's RabbitMQ node (kraken-a@10.0.0.1) still runs");
  });

  it('says when no agent runs with that data dir, exit 3', async () => {
    await expect(promoteCommand({ dataDir, json: false }, io)).resolves.toBe(ExitCode.Unreachable);
    expect(lines.err.at(-1)).toMatch(/no agent runs with this data dir .*--data-dir/);
  });

  it('removes its socket when the agent stops', async () => {
    await serve(() => Promise.resolve({ nodeId: 'b', leftOut: [], tookMs: 1 }));
    await control?.stop();
    await expect(stat(path.join(dataDir, CONTROL_SOCKET))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
