import Docker from 'dockerode';
import { ErrorCode } from '@kraken/common';
import { thrown } from '@kraken/testing';
import { compileOptions, defaultTemplatesDir } from './options.js';

const docker = new Docker({ socketPath: '/nonexistent.sock' });
const base = { docker, nodeId: 'node-1', workDir: '/var/lib/kraken' };

describe('compileOptions', () => {
  it('fills documented defaults as milliseconds', () => {
    const compiled = compileOptions(base);
    expect(compiled).toMatchObject({
      cloneTimeoutMs: 120_000,
      buildTimeoutMs: 900_000,
      testTimeoutMs: 300_000,
      readyTimeoutMs: 30_000,
      stopTimeoutMs: 5_000,
      statsIntervalMs: 500,
      defaultMemoryMb: 512,
      defaultCpus: 1,
      errorTailLines: 20,
      templatesDir: defaultTemplatesDir(),
    });
  });

  it('reads durations written as strings or numbers', () => {
    expect(compileOptions({ ...base, readyTimeout: '2.5s', buildTimeout: 1234 })).toMatchObject({ readyTimeoutMs: 2500, buildTimeoutMs: 1234 });
  });

  it.each([
    [{ readyTimeout: 'soon' }, 'readyTimeout'],
    [{ readyTimeout: 0 }, 'readyTimeout'],
    [{ nodeId: 'has space' }, 'nodeId'],
    [{ workDir: 'relative/dir' }, 'workDir'],
    [{ templatesDir: 'templates' }, 'templatesDir'],
    [{ defaultMemoryMb: 1 }, 'defaultMemoryMb'],
    [{ defaultCpus: -1 }, 'defaultCpus'],
  ])('refuses %j naming the option', (override, field) => {
    expect(thrown(() => compileOptions({ ...base, ...override }))).toMatchObject({ code: ErrorCode.InvalidConfig, details: { field } });
  });

  it('resolves the default templates folder beside src/ and dist/', () => {
    expect(defaultTemplatesDir()).toMatch(/packages\/docker-deployer\/templates$/);
  });
});
