import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KrakenError } from '@kraken/common';
import { parseState, readState, writeState } from './state.js';
import type { ProcessState } from './state.js';

const state: ProcessState = {
  v: 1,
  deploymentId: 'dep-1',
  nodeId: 'node-a',
  appName: 'hello',
  commit: '0123456789abcdef0123456789abcdef01234567',
  lang: 'node',
  phase: 'running',
  command: ['/bin/sh', '-c', 'node server.js'],
  cwd: '/data/deployments/dep-1/app',
  env: { PORT: '4000', GREETING: 'hi' },
  hostPort: 4000,
  endpoint: '/',
  pid: 1234,
  startTime: 99887766,
  startedAt: '2024-05-01T10:00:00.000Z',
  restarts: 2,
  createdAt: '2024-05-01T09:59:00.000Z',
};

function expectProblem(text: string, pattern: RegExp): void {
  let thrown: unknown;
  try {
    parseState(text, '/data/state.json');
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(KrakenError);
  expect((thrown as Error).message).toMatch(/^state file \/data\/state\.json /);
  expect((thrown as Error).message).toMatch(pattern);
}

describe('parseState', () => {
  it('reads back what was written', () => {
    expect(parseState(JSON.stringify(state), 'state.json')).toEqual(state);
  });

  it('reads an app without a port (hostPort absent)', () => {
    const { hostPort: _unused, ...withoutPort } = state;
    expect(parseState(JSON.stringify(withoutPort), 'state.json').hostPort).toBeUndefined();
  });

  it('names the file and what is wrong with it', () => {
    expectProblem('{"v":1', /is not JSON/);
    expectProblem('[]', /must hold a JSON object/);
    expectProblem(JSON.stringify({ ...state, v: 2 }), /version 2; this deployer reads version 1/);
    expectProblem(JSON.stringify({ ...state, pid: 'x' }), /field pid must be a whole number/);
    expectProblem(JSON.stringify({ ...state, lang: 'custom' }), /field lang must be one of node, python3, static; got "custom"/);
    expectProblem(JSON.stringify({ ...state, command: [] }), /field command must be a non-empty array of strings/);
    expectProblem(JSON.stringify({ ...state, env: { PORT: 4000 } }), /field env must be an object of strings/);
    expectProblem(JSON.stringify({ ...state, hostPort: 70000 }), /field hostPort must be a whole number from 1 to 65535; got 70000/);
    const { commit: _unused, ...noCommit } = state;
    expectProblem(JSON.stringify(noCommit), /field commit must be a string; got nothing/);
  });
});

describe('writeState', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kraken-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a file only its owner can read, that readState reads back', async () => {
    const file = path.join(dir, 'state.json');
    await writeState(file, state);
    await expect(readState(file)).resolves.toEqual(state);
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ deploymentId: 'dep-1' });
  });
});
