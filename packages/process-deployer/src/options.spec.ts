import { ErrorCode } from '@kraken/common';
import { compileProcessOptions, defaultBaseEnv } from './options.js';

describe('compileProcessOptions', () => {
  it('fills the defaults and turns durations into milliseconds', () => {
    const compiled = compileProcessOptions({ dataDir: '/var/lib/kraken/process', nodeId: 'node-1', baseEnv: { PATH: '/bin' } });
    expect(compiled).toMatchObject({
      dataDir: '/var/lib/kraken/process',
      shell: '/bin/sh',
      npm: 'npm',
      python: 'python3',
      node: process.execPath,
      readyTimeoutMs: 30_000,
      stopTimeoutMs: 5000,
      restart: { initialMs: 1000, maxMs: 30_000, stableAfterMs: 60_000 },
      pollIntervalMs: 1000,
      drainTimeMs: 10_000,
      errorTailLines: 20,
      baseEnv: { PATH: '/bin' },
    });
  });

  it('names the option that is wrong', () => {
    const cases: [Parameters<typeof compileProcessOptions>[0], RegExp][] = [
      [{ dataDir: 'relative/dir', nodeId: 'n' }, /option dataDir: must be an absolute path/],
      [{ dataDir: '/d', nodeId: 'bad id' }, /option nodeId: must be 1-128 characters/],
      [{ dataDir: '/d', nodeId: 'n', readyTimeout: 0 }, /option readyTimeout: must be more than 0/],
      [{ dataDir: '/d', nodeId: 'n', restartDelay: 'soon' }, /option restartDelay: /],
      [{ dataDir: '/d', nodeId: 'n', restartDelay: '10s', maxRestartDelay: '5s' }, /option maxRestartDelay: must be at least restartDelay \(10000 ms\)/],
      [{ dataDir: '/d', nodeId: 'n', shell: ' ' }, /option shell: must name a program/],
      [{ dataDir: '/d', nodeId: 'n', maxLogBytes: 10 }, /option maxLogBytes: must be a number from 4096/],
      [{ dataDir: '/d', nodeId: 'n', drainTime: 0 }, /option drainTime: must be more than 0/],
      [{ dataDir: '/d', nodeId: 'n', appUser: 'Kraken App' }, /option appUser: must be a user name/],
      [{ dataDir: '/d', nodeId: 'n', appUser: '-rf' }, /option appUser: must be a user name/],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      try {
        compileProcessOptions(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: ErrorCode.InvalidConfig, message: expect.stringMatching(message) as unknown });
    }
  });
});

describe('defaultBaseEnv', () => {
  it('passes on what finds tools and registries, and nothing else from the agent', () => {
    const env = defaultBaseEnv({
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      npm_config_registry: 'http://mirror/',
      PIP_INDEX_URL: 'http://pypi-mirror/simple',
      KRAKEN_API_TOKEN: 'secret',
      AWS_SECRET_ACCESS_KEY: 'secret',
      NODE_OPTIONS: '--inspect',
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      npm_config_registry: 'http://mirror/',
      PIP_INDEX_URL: 'http://pypi-mirror/simple',
    });
  });

  it('gives a PATH even when the agent has none', () => {
    expect(defaultBaseEnv({}).PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });
});
