import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import { loadAgentConfig } from './agent-config.js';
import { generateNodeId, loadOrCreateNodeId } from './node-identity.js';

describe('agent configuration', () => {
  it('has defaults that make a single-node cluster on port 4000', () => {
    const { config } = loadAgentConfig({});
    expect(config).toMatchObject({ apiPort: 4000, apiHost: '0.0.0.0', priority: 0, runtime: 'auto', mdns: true, discoveryTimeout: 1500, insecureNoAuth: false });
    expect(config.dataDir).toBe(path.join(os.homedir(), '.kraken'));
    expect(config.brokerUrl).toBeUndefined();
  });

  it('reads KRAKEN_* variables and lets flags win over them', () => {
    const { config, sources } = loadAgentConfig({
      env: { KRAKEN_API_PORT: '5000', KRAKEN_MDNS: 'false', KRAKEN_DISCOVERY_TIMEOUT: '3s', KRAKEN_RUNTIME: 'process' },
      flags: { apiPort: '6000' },
    });
    expect(config).toMatchObject({ apiPort: 6000, mdns: false, discoveryTimeout: 3000, runtime: 'process' });
    expect(sources).toMatchObject({ apiPort: 'flag', mdns: 'env' });
  });

  it('runs process-runtime apps as kraken-app unless told another user, or false (--no-app-user)', () => {
    expect(loadAgentConfig({}).config.appUser).toBe('kraken-app');
    expect(loadAgentConfig({ flags: { appUser: 'apps' } }).config.appUser).toBe('apps');
    expect(loadAgentConfig({ flags: { appUser: false } }).config.appUser).toBe(false);
    expect(loadAgentConfig({ env: { KRAKEN_APP_USER: 'false' } }).config.appUser).toBe(false);
    expect(() => loadAgentConfig({ flags: { appUser: 'Root User' } })).toThrow(/appUser.*expected a user name/s);
  });

  it('takes the crash-loop threshold and steady time from KRAKEN_* variables, defaulting to 5 restarts and 1 minute', () => {
    expect(loadAgentConfig({}).config).toMatchObject({ crashLoopRestarts: 5, crashLoopSteadyAfter: 60_000 });
    const { config } = loadAgentConfig({ env: { KRAKEN_CRASH_LOOP_RESTARTS: '3', KRAKEN_CRASH_LOOP_STEADY_AFTER: '30s' } });
    expect(config).toMatchObject({ crashLoopRestarts: 3, crashLoopSteadyAfter: 30_000 });
    expect(() => loadAgentConfig({ env: { KRAKEN_CRASH_LOOP_RESTARTS: '0' } })).toThrow(/crashLoopRestarts/);
  });

  it('makes failover builds unless --no-failover-builds, KRAKEN_FAILOVER_BUILDS=false or the file turns them off', () => {
    expect(loadAgentConfig({}).config.failoverBuilds).toBe(true);
    // commander turns --no-failover-builds into failoverBuilds: false
    expect(loadAgentConfig({ flags: { failoverBuilds: false } }).config.failoverBuilds).toBe(false);
    expect(loadAgentConfig({ env: { KRAKEN_FAILOVER_BUILDS: 'false' } }).config.failoverBuilds).toBe(false);
  });

  it('takes a webhook URL from a flag, KRAKEN_WEBHOOK_URL or the file, and refuses one that is not http(s)', () => {
    expect(loadAgentConfig({}).config.webhookUrl).toBeUndefined();
    expect(loadAgentConfig({ flags: { webhookUrl: 'https://hooks.example.com/kraken' } }).config.webhookUrl).toBe('https://hooks.example.com/kraken');
    expect(loadAgentConfig({ env: { KRAKEN_WEBHOOK_URL: 'http://10.0.0.9:9000/hook' } }).config.webhookUrl).toBe('http://10.0.0.9:9000/hook');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-config-'));
    const file = path.join(dir, 'agent.toml');
    fs.writeFileSync(file, 'webhook_url = "https://hooks.example.com/from-file"\n');
    expect(loadAgentConfig({ file }).config.webhookUrl).toBe('https://hooks.example.com/from-file');
    fs.rmSync(dir, { recursive: true });
    expect(() => loadAgentConfig({ flags: { webhookUrl: 'hooks.example.com/kraken' } })).toThrow(/webhookUrl.*expected an absolute http\(s\) URL/);
    expect(() => loadAgentConfig({ flags: { webhookUrl: 'ftp://example.com/x' } })).toThrow(/webhookUrl/);
  });

  it('takes how long removed deployments are kept from a flag, KRAKEN_REMOVED_RETENTION or the file, leaving the default to the orchestrator', () => {
    expect(loadAgentConfig({}).config.removedRetention).toBeUndefined();
    expect(loadAgentConfig({ flags: { removedRetention: '48h' } }).config.removedRetention).toBe(48 * 3_600_000);
    expect(loadAgentConfig({ env: { KRAKEN_REMOVED_RETENTION: '0' } }).config.removedRetention).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-config-'));
    const file = path.join(dir, 'agent.toml');
    fs.writeFileSync(file, 'removed_retention = "30m"\n');
    expect(loadAgentConfig({ file }).config.removedRetention).toBe(1_800_000);
    fs.rmSync(dir, { recursive: true });
    expect(() => loadAgentConfig({ flags: { removedRetention: 'a week' } })).toThrow(/removedRetention.*invalid duration "a week"/);
  });

  it('reads a TOML file with snake_case keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-config-'));
    const file = path.join(dir, 'agent.toml');
    fs.writeFileSync(file, 'join = "http://10.0.0.5:4000"\njoin_token = "s3cret-token"\npriority = 2\n');
    expect(loadAgentConfig({ file }).config).toMatchObject({ join: 'http://10.0.0.5:4000', joinToken: 's3cret-token', priority: 2 });
    fs.rmSync(dir, { recursive: true });
  });

  it('takes the join token from KRAKEN_JOIN_TOKEN or from --join-token-file, which keep it out of ps', () => {
    expect(loadAgentConfig({ env: { KRAKEN_JOIN_TOKEN: 'from-env' } }).config.joinToken).toBe('from-env');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-config-'));
    const file = path.join(dir, 'join-token');
    fs.writeFileSync(file, 'from-file\n', { mode: 0o600 });
    expect(loadAgentConfig({ flags: { joinTokenFile: file } }).config.joinToken).toBe('from-file');
    expect(() => loadAgentConfig({ flags: { joinTokenFile: file, joinToken: 'again' } })).toThrow(/give the join token once/);
    expect(() => loadAgentConfig({ flags: { joinTokenFile: path.join(dir, 'missing') } })).toThrow(/--join-token-file: cannot read .*missing/);
    fs.writeFileSync(file, 'two words\n');
    expect(() => loadAgentConfig({ flags: { joinTokenFile: file } })).toThrow(/must hold the join token alone, on one line/);
    fs.rmSync(dir, { recursive: true });
  });

  it('names the setting, where it came from and what is allowed when a value is wrong', () => {
    const attempt = () => loadAgentConfig({ env: { KRAKEN_BROKER_URL: 'http://rabbit' }, flags: { runtime: 'podman', join: 'not a url' } });
    expect(attempt).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }) as Error);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/brokerUrl \(from KRAKEN_BROKER_URL\): expected an amqp/);
      expect(message).toMatch(/runtime \(from --runtime\)/);
      expect(message).toMatch(/join \(from --join\): expected an http/);
    }
  });
});

describe('node identity', () => {
  it('generates a readable id from the host name and keeps it across starts', () => {
    expect(generateNodeId('Lab PC #3')).toMatch(/^lab-pc-3-[0-9a-f]{6}$/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-id-'));
    const first = loadOrCreateNodeId(dir);
    expect(loadOrCreateNodeId(dir)).toBe(first);
    expect(loadOrCreateNodeId(dir, 'pi-kitchen')).toBe('pi-kitchen');
    expect(loadOrCreateNodeId(dir)).toBe('pi-kitchen');
    fs.rmSync(dir, { recursive: true });
  });
});
