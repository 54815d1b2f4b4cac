// Issue 8: a node that speaks another protocol version is refused when it joins, with a message
// that says which side to update; a real leading agent on the real RabbitMQ answers the join.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { KrakenError } from '@kraken/common';
import { PROTOCOL_VERSION } from '@kraken/messages';
import { freePort, isolatedVhost, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { joinCluster } from './run/join-cluster.js';
import { CLI, spawnLongRunning } from '../test/cli-process.js';

const agentRoot = path.resolve(__dirname, '..');
const repoRoot = path.resolve(agentRoot, '..', '..');
const NEXT_PROTOCOL = PROTOCOL_VERSION + 1;

/**
 * The built agent as a future release speaking protocol NEXT_PROTOCOL would ship it: a copy of its
 * dist with its own copy of @kraken/messages whose PROTOCOL_VERSION is changed. Everything else
 * resolves to the workspace's packages. Returns the copy's CLI entry point.
 */
function nextReleaseCli(dir: string): string {
  const agent = path.join(dir, 'agent');
  fs.cpSync(path.join(agentRoot, 'dist'), path.join(agent, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(agentRoot, 'package.json'), path.join(agent, 'package.json'));
  const messages = path.join(agent, 'node_modules', '@kraken', 'messages');
  fs.mkdirSync(messages, { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'packages', 'messages', 'package.json'), path.join(messages, 'package.json'));
  fs.cpSync(path.join(repoRoot, 'packages', 'messages', 'dist'), path.join(messages, 'dist'), { recursive: true });
  const declaration = /export const PROTOCOL_VERSION = \d+;/;
  const patched = fs
    .readdirSync(path.join(messages, 'dist'))
    .filter((name) => name.endsWith('.js'))
    .map((name) => path.join(messages, 'dist', name))
    .filter((file) => declaration.test(fs.readFileSync(file, 'utf8')));
  expect(patched).toHaveLength(1);
  const file = patched[0] ?? '';
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(declaration, `export const PROTOCOL_VERSION = ${NEXT_PROTOCOL};`));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return path.join(agent, 'dist', 'cli.js');
}

/** Runs a kraken binary (the workspace's or a copy) to completion. */
function kraken(args: string[], cli = CLI): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : error === null ? 0 : -1, stdout, stderr });
    });
  });
}

describe('joining a cluster with another protocol version', () => {
  let dir: TempDir;
  let leader: WatchedProcess;
  let api: string;
  let asked: string;
  let joinToken: string;
  // its own vhost: in the shared one, another Kraken on this machine would lead and answer instead
  let vhost: IsolatedVhost | undefined;

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-join-protocol');
    dir = await tempDir('kraken-join-protocol-');
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    leader = spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', path.join(dir.path, 'leader'), '--api-port', String(port), '--api-host', '127.0.0.1',
      // joins are accepted only when the leader has a broker the joining node can reach
      '--broker-url', vhost.url, '--advertise-broker-url', vhost.url, '--runtime', 'process', '--no-mdns', '--public-host', '127.0.0.1',
    ]);
    const line = await leader.waitFor(/Add a machine: kraken agent --join \S+ --join-token \S+/, 90_000);
    joinToken = /--join-token (\S+)/.exec(line)?.[1] ?? '';
    // a joiner asks over TLS (the printed token names the cluster CA), whatever scheme --join says
    asked = api.replace(/^http:/, 'https:');
  }, 120_000);

  afterAll(async () => {
    leader.kill('SIGTERM');
    await leader.exited;
    await dir.remove();
    await vhost?.remove();
  }, 60_000);

  it('grants a join at the same protocol version', async () => {
    const grant = await joinCluster({ url: api, token: joinToken, nodeId: 'same-release-node' });
    expect(grant).toMatchObject({ protocolVersion: PROTOCOL_VERSION, brokerUrl: vhost?.url });
  });

  it('refuses a node announcing another protocol version, saying to update the orchestrator when the node is newer', async () => {
    const refusal = await joinCluster({ url: api, token: joinToken, nodeId: 'next-release-node', protocolVersion: NEXT_PROTOCOL }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(KrakenError);
    const { code, message } = refusal as KrakenError;
    expect({ code, message }).toEqual({
      code: 'UNSUPPORTED_VERSION',
      message: `the orchestrator at ${asked} refused this node: node next-release-node speaks protocol version ${NEXT_PROTOCOL}, this orchestrator speaks ${PROTOCOL_VERSION}: update the orchestrator so both speak the same version`,
    });
    // the orchestrator's own log says why, for whoever reads the leader's journal
    await expect(leader.waitFor(/refused a join: protocol versions differ.*next-release-node/, 10_000)).resolves.toBeDefined();
  });

  it('makes kraken agent of a release with another protocol print the refusal and exit 1', async () => {
    const cli = nextReleaseCli(path.join(dir.path, 'next-release'));
    const result = await kraken([
      'agent', '--join', api, '--join-token', joinToken, '--node-id', 'next-cli-node', '--data-dir', path.join(dir.path, 'joiner'),
      '--no-mdns', '--runtime', 'process',
    ], cli);
    expect(result.stderr).toContain(
      `kraken: the orchestrator at ${asked} refused this node: node next-cli-node speaks protocol version ${NEXT_PROTOCOL}, this orchestrator speaks ${PROTOCOL_VERSION}: update the orchestrator so both speak the same version`,
    );
    // the exit code of an operation that was refused (1), like a failed deployment; 5 is for tokens
    expect(result.code).toBe(1);
  }, 60_000);

  it('makes kraken agent exit 5 when the join token is refused, the other join refusal', async () => {
    const result = await kraken([
      'agent', '--join', api, '--join-token', 'not-the-join-token', '--node-id', 'wrong-token-node', '--data-dir', path.join(dir.path, 'joiner-2'),
      '--no-mdns', '--runtime', 'process',
    ]);
    expect(result.stderr).toContain(`kraken: the orchestrator at ${asked} refused the join token: invalid join token`);
    expect(result.code).toBe(5);
  }, 60_000);
});
