import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadConfig } from './config.js';
import { ErrorCode, KrakenError } from './errors.js';

const schema = z.object({
  port: z.coerce.number().int().min(1).max(65_535).default(7000),
  nodeId: z.string().min(1).default('local'),
  dataDir: z.string().default('/var/lib/kraken'),
  heartbeatInterval: z.string().default('5s'),
});

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-common-config-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Runs loadConfig expecting it to fail, and returns the KrakenError it threw. */
function failure(run: () => unknown): KrakenError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KrakenError);
    expect((error as KrakenError).code).toBe(ErrorCode.InvalidConfig);
    return error as KrakenError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('uses the schema defaults when nothing else is given', () => {
    expect(loadConfig({ schema })).toEqual({
      config: { port: 7000, nodeId: 'local', dataDir: '/var/lib/kraken', heartbeatInterval: '5s' },
      sources: { port: 'default', nodeId: 'default', dataDir: 'default', heartbeatInterval: 'default' },
    });
  });

  it('layers default < file < env < flag, and says where each value came from', () => {
    const file = writeFile('kraken.toml', 'port = 7100\nnode_id = "from-file"\ndata_dir = "/srv/kraken"\n');

    const { config, sources } = loadConfig({
      schema,
      file,
      env: { KRAKEN_PORT: '7200', KRAKEN_NODE_ID: 'from-env' },
      flags: { port: 7300 },
    });

    expect(config).toEqual({ port: 7300, nodeId: 'from-env', dataDir: '/srv/kraken', heartbeatInterval: '5s' });
    expect(sources).toEqual({ port: 'flag', nodeId: 'env', dataDir: 'file', heartbeatInterval: 'default' });
  });

  it('reads a TOML file, mapping snake_case and kebab-case keys to camelCase', () => {
    const file = writeFile(
      'kraken.toml',
      'node_id = "pi-kitchen"\ndata-dir = "/data"\nheartbeat_interval = "10s"\nport = 8080\n',
    );

    const { config, sources } = loadConfig({ schema, file });

    expect(config).toEqual({ port: 8080, nodeId: 'pi-kitchen', dataDir: '/data', heartbeatInterval: '10s' });
    expect(sources).toEqual({ port: 'file', nodeId: 'file', dataDir: 'file', heartbeatInterval: 'file' });
  });

  it('reads a JSON file by its .json extension, with snake_case, kebab-case or camelCase keys', () => {
    const file = writeFile(
      'kraken.json',
      JSON.stringify({ node_id: 'mini-pc', 'data-dir': '/json', heartbeatInterval: '1m', port: 9090 }),
    );

    expect(loadConfig({ schema, file }).config).toEqual({
      port: 9090,
      nodeId: 'mini-pc',
      dataDir: '/json',
      heartbeatInterval: '1m',
    });
  });

  it('reads env variables named prefix + SCREAMING_SNAKE of the key, coercing numbers', () => {
    const { config, sources } = loadConfig({
      schema,
      env: { KRAKEN_PORT: '8443', KRAKEN_DATA_DIR: '/env', KRAKEN_HEARTBEAT_INTERVAL: '2s', PORT: '1', KRAKEN_nodeId: 'ignored' },
    });

    expect(config).toEqual({ port: 8443, nodeId: 'local', dataDir: '/env', heartbeatInterval: '2s' });
    expect(sources).toMatchObject({ port: 'env', dataDir: 'env', heartbeatInterval: 'env', nodeId: 'default' });
  });

  it('honours a custom env prefix', () => {
    const { config } = loadConfig({ schema, env: { KRAKEN_PORT: '1111', AGENT_PORT: '2222' }, envPrefix: 'AGENT_' });

    expect(config.port).toBe(2222);
  });

  it('ignores empty env values, so `KRAKEN_PORT=` does not override the file', () => {
    const file = writeFile('kraken.toml', 'port = 7100\n');

    const { config, sources } = loadConfig({ schema, file, env: { KRAKEN_PORT: '', KRAKEN_NODE_ID: '' } });

    expect(config).toMatchObject({ port: 7100, nodeId: 'local' });
    expect(sources).toMatchObject({ port: 'file', nodeId: 'default' });
  });

  it('ignores flags that were not given (undefined) and flags that are not config keys', () => {
    const { config, sources } = loadConfig({
      schema,
      env: { KRAKEN_NODE_ID: 'from-env' },
      flags: { nodeId: undefined, verbose: true },
    });

    expect(config).toEqual({ port: 7000, nodeId: 'from-env', dataDir: '/var/lib/kraken', heartbeatInterval: '5s' });
    expect(sources['nodeId']).toBe('env');
    expect(sources).not.toHaveProperty('verbose');
  });

  it('rejects unknown keys in the file, naming them as written and listing the known ones', () => {
    const file = writeFile('kraken.toml', 'prot = 1\nnode_idd = "x"\nport = 2\n');

    const error = failure(() => loadConfig({ schema, file }));

    expect(error.message).toBe(
      `config file ${file} has unknown settings: prot, node_idd (known: port, nodeId, dataDir, heartbeatInterval)`,
    );
  });

  it('names a config file it cannot read', () => {
    const file = path.join(dir, 'missing.toml');

    const error = failure(() => loadConfig({ schema, file }));

    expect(error.message).toBe(`cannot read config file ${file}`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('names a file that is not valid TOML', () => {
    const file = writeFile('kraken.toml', 'port = = 1\n');

    expect(failure(() => loadConfig({ schema, file })).message).toMatch(
      new RegExp(`^config file ${escape(file)} is not valid TOML: `),
    );
  });

  it('names a file that is not valid JSON', () => {
    const file = writeFile('kraken.json', '{"port": 1,}');

    expect(failure(() => loadConfig({ schema, file })).message).toMatch(
      new RegExp(`^config file ${escape(file)} is not valid JSON: `),
    );
  });

  it.each([
    ['an array', '[1, 2]'],
    ['a string', '"port"'],
    ['null', 'null'],
  ])('names a JSON file holding %s instead of a table of settings', (_label, text) => {
    const file = writeFile('kraken.json', text);

    expect(failure(() => loadConfig({ schema, file })).message).toBe(`config file ${file} must hold a table of settings`);
  });

  it('names the key and the env variable it came from when an env value is invalid', () => {
    const error = failure(() => loadConfig({ schema, env: { KRAKEN_PORT: 'eighty' } }));

    expect(error.message).toMatch(/^invalid configuration:\n {2}port \(from KRAKEN_PORT\): /);
  });

  it('names the key and the flag it came from when a flag value is invalid', () => {
    const error = failure(() => loadConfig({ schema, flags: { port: 70_000 } }));

    expect(error.message).toMatch(/^invalid configuration:\n {2}port \(from --port\): .*65535/);
  });

  it('names the flag in kebab-case for a camelCase key', () => {
    const error = failure(() => loadConfig({ schema, flags: { heartbeatInterval: 5 } }));

    expect(error.message).toContain('heartbeatInterval (from --heartbeat-interval): ');
  });

  it('names the file when a value from the file is invalid', () => {
    const file = writeFile('kraken.toml', 'node_id = ""\n');

    const error = failure(() => loadConfig({ schema, file }));

    expect(error.message).toMatch(new RegExp(`nodeId \\(from ${escape(file)}\\): `));
  });

  it('reports every invalid value at once, in the message and in details.problems', () => {
    const file = writeFile('kraken.toml', 'data_dir = 42\n');

    const error = failure(() => loadConfig({ schema, file, env: { KRAKEN_PORT: '0' }, flags: { nodeId: '' } }));

    const problems = (error.details as { problems: string[] }).problems;
    expect(problems).toHaveLength(3);
    expect(problems.map((p) => p.slice(0, p.indexOf(':')))).toEqual([
      'port (from KRAKEN_PORT)',
      'nodeId (from --node-id)',
      `dataDir (from ${file})`,
    ]);
    for (const problem of problems) expect(error.message).toContain(problem);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
