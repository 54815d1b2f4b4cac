import type { ServiceSpec } from './unit-file.js';
import { ENV_FILE_PATH, renderEnvFile, renderUnit, systemdWord } from './unit-file.js';
import { cronLine, shellWord } from './shell-words.js';
import { STOP_BOUND_MS } from '../run/stop-bound.js';

const spec: ServiceSpec = {
  node: '/usr/local/bin/node',
  cli: '/usr/local/lib/node_modules/@kraken/agent/dist/cli.js',
  user: 'kraken',
  dataDir: '/var/lib/kraken',
  agentArgs: [],
  secretEnv: {},
};

const setting = (unit: string, key: string) => unit.split('\n').filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));

describe('the systemd unit', () => {
  it('runs `kraken agent` with absolute node and CLI paths, as the user, with the data dir in its environment', () => {
    const unit = renderUnit({ ...spec, agentArgs: ['--no-mdns', '--api-port', '4100'] });
    expect(setting(unit, 'ExecStart')).toEqual(['/usr/local/bin/node /usr/local/lib/node_modules/@kraken/agent/dist/cli.js agent --no-mdns --api-port 4100']);
    expect(setting(unit, 'User')).toEqual(['kraken']);
    expect(setting(unit, 'Environment')).toEqual(['"KRAKEN_DATA_DIR=/var/lib/kraken"']);
  });

  it('starts after the network is online, restarts on failure, and leaves apps running when stopped', () => {
    const unit = renderUnit(spec);
    expect(setting(unit, 'Wants')).toEqual(['network-online.target']);
    expect(setting(unit, 'After')[0]).toMatch(/^network-online\.target\b/);
    expect(setting(unit, 'Restart')).toEqual(['on-failure']);
    expect(setting(unit, 'KillMode')).toEqual(['process']);
    expect(setting(unit, 'WantedBy')).toEqual(['multi-user.target']);
    expect(unit.split('\n').filter((line) => line.startsWith('['))).toEqual(['[Unit]', '[Service]', '[Install]']);
  });

  it('stops with one SIGTERM and waits longer than the agent\'s stop bound before systemd would SIGKILL it', () => {
    const unit = renderUnit(spec);
    expect(setting(unit, 'KillSignal')).toEqual(['SIGTERM']);
    const [timeout] = setting(unit, 'TimeoutStopSec');
    expect(timeout).toMatch(/^\d+s$/);
    expect(Number.parseInt(timeout ?? '', 10) * 1000).toBeGreaterThan(STOP_BOUND_MS);
  });

  it('quotes paths and arguments with spaces, and escapes quotes, backslashes, % specifiers and $ variables', () => {
    const unit = renderUnit({
      ...spec,
      node: '/opt/node 20/bin/node',
      cli: '/home/me/My Apps/kraken/dist/cli.js',
      dataDir: '/srv/kraken 100%',
      agentArgs: ['--public-host', 'a "quoted" host', 'C:\\dir', '$HOME', '', ';', 'line\nbreak'],
    });
    expect(setting(unit, 'ExecStart')).toEqual([
      '"/opt/node 20/bin/node" "/home/me/My Apps/kraken/dist/cli.js" agent --public-host "a \\"quoted\\" host" "C:\\\\dir" "$$HOME" "" ";" "line\\nbreak"',
    ]);
    // Environment= resolves specifiers but does not expand variables
    expect(setting(unit, 'Environment')).toEqual(['"KRAKEN_DATA_DIR=/srv/kraken 100%%"']);
  });

  it('leaves plain words unquoted and escapes control characters as \\xNN', () => {
    expect(systemdWord('--api-port=4000')).toBe('--api-port=4000');
    expect(systemdWord('a\u0007b')).toBe('"a\\x07b"');
    expect(systemdWord('$x')).toBe('"$x"');
    expect(systemdWord('$x', { dollar: true })).toBe('"$$x"');
  });

  it('refuses relative paths and user names systemd would not take, naming the field', () => {
    expect(() => renderUnit({ ...spec, cli: 'dist/cli.js' })).toThrow('cli: systemd needs an absolute path, got "dist/cli.js"');
    expect(() => renderUnit({ ...spec, dataDir: '.kraken' })).toThrow(/--data-dir: systemd needs an absolute path/);
    expect(() => renderUnit({ ...spec, user: 'bad user' })).toThrow(/--user: expected a login name .* got "bad user"/);
    expect(renderUnit({ ...spec, user: '1000' })).toContain('\nUser=1000\n');
  });
});

describe('secrets for the unit', () => {
  it('go to an environment file the unit names, never into the unit', () => {
    const withToken = { ...spec, secretEnv: { KRAKEN_JOIN_TOKEN: 'tok-123_abc' } };
    const unit = renderUnit(withToken);
    expect(setting(unit, 'EnvironmentFile')).toEqual([ENV_FILE_PATH]);
    expect(unit).not.toContain('tok-123_abc');
    expect(renderEnvFile(withToken)).toMatch(/\nKRAKEN_JOIN_TOKEN=tok-123_abc\n$/);
    expect(setting(renderUnit(spec), 'EnvironmentFile')).toEqual([]);
    expect(renderEnvFile(spec)).toBeUndefined();
    expect(() => renderEnvFile({ ...spec, secretEnv: { KRAKEN_JOIN_TOKEN: 'a b\nEVIL=1' } })).toThrow(/KRAKEN_JOIN_TOKEN: expected a token/);
  });

  it('are environment in the crontab line, not arguments that ps shows', () => {
    expect(cronLine({ ...spec, secretEnv: { KRAKEN_JOIN_TOKEN: 'tok' } })).toContain('KRAKEN_DATA_DIR=/var/lib/kraken KRAKEN_JOIN_TOKEN=tok /usr/local/bin/node');
  });
});

describe('the @reboot crontab line for machines without systemd', () => {
  it('sets the data dir, logs to it, and quotes for the shell and for cron\'s %', () => {
    expect(cronLine(spec)).toBe(
      '@reboot mkdir -p /var/lib/kraken && KRAKEN_DATA_DIR=/var/lib/kraken /usr/local/bin/node /usr/local/lib/node_modules/@kraken/agent/dist/cli.js agent >>/var/lib/kraken/agent.log 2>&1',
    );
    const line = cronLine({ ...spec, dataDir: "/srv/it's 100%", agentArgs: ['--public-host', 'my host'] });
    expect(line).toBe(
      "@reboot mkdir -p '/srv/it'\\''s 100\\%' && KRAKEN_DATA_DIR='/srv/it'\\''s 100\\%' /usr/local/bin/node /usr/local/lib/node_modules/@kraken/agent/dist/cli.js agent --public-host 'my host' >>'/srv/it'\\''s 100\\%/agent.log' 2>&1",
    );
  });

  it('single-quotes shell words that need it', () => {
    expect(shellWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellWord('')).toBe("''");
    expect(shellWord('$(rm -rf /)')).toBe("'$(rm -rf /)'");
  });
});
