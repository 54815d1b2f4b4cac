// A start that fails part-way (here: its API port is taken) must let go of what it opened, or the
// start that follows in the same process (runAgentCommand tries again) fails on it for good. Chaos
// seed 22 found all three agents of a cluster stuck so for ten minutes: a lease wait that timed out
// left the process runtime's folder locked, and every later start failed with "in use by another
// ProcessDeployer in this process".
import net from 'node:net';
import path from 'node:path';
import { noopLogger } from '@kraken/common';
import { freePort, isolatedVhost, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir } from '@kraken/testing';
import { loadAgentConfig } from './config/agent-config.js';
import { startAgent } from './run/start-agent.js';

describe('an agent start that fails part-way', () => {
  let dir: TempDir;
  let vhost: IsolatedVhost;

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-failed-start');
    dir = await tempDir('kraken-failed-start-');
  });

  afterAll(async () => {
    await dir.remove();
    await vhost.remove();
  });

  it('releases the runtime it opened, so the next start in the same process runs', async () => {
    const port = await freePort();
    const { config } = loadAgentConfig({
      flags: {
        dataDir: path.join(dir.path, 'data'), appsDir: path.join(dir.path, 'apps'), apiPort: port, apiHost: '127.0.0.1',
        brokerUrl: vhost.url, runtime: 'process', mdns: false, publicHost: '127.0.0.1', ingress: false,
      },
    });
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startAgent({ config, logger: noopLogger })).rejects.toThrow(/^the API cannot listen on 127\.0\.0\.1:\d+: another program \(or another Kraken\) holds that port/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }

    const running = await startAgent({ config, logger: noopLogger });
    try {
      expect(running.runtime).toBe('process');
      expect((await fetch(`http://127.0.0.1:${port}/ping`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  }, 120_000);
});
