import { spawn } from 'node:child_process';
import path from 'node:path';
import type { WatchedProcess } from '@kraken/testing';
import { watchProcess } from '@kraken/testing';

/** The built binary: integration tests run what `npm install -g @kraken/agent` would install. */
export const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a `kraken` verb to completion. `prefix` runs it inside something (e.g. `ip netns exec ns`); `input` is its stdin. */
export function runKraken(args: string[], options: { env?: NodeJS.ProcessEnv; prefix?: string[]; input?: string } = {}): Promise<CliResult> {
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, CLI, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command ?? process.execPath, rest, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    // without input, stdin ends at once: the same end of file as /dev/null
    child.stdin.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * What deployment `id` answers at the address `kraken ls` lists for it (run by `kraken`), or why it
 * does not: "not running (<status>)" or the request's error.
 */
export async function listedAppAnswer(kraken: (...args: string[]) => Promise<CliResult>, id: string): Promise<string> {
  const list = JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; status: string; deploymentUrl: string | null }[];
  const current = list.find((d) => d.id === id);
  if (current?.status !== 'RUNNING' || current.deploymentUrl === null) return `not running (${String(current?.status)})`;
  try {
    return await (await fetch(current.deploymentUrl)).text();
  } catch (error) {
    return String(error);
  }
}

/** Starts a long-running command (an agent, or run-kraken.sh) in its own process group. */
export function spawnLongRunning(command: string, args: string[], env: NodeJS.ProcessEnv = {}): WatchedProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return watchProcess(child, { group: true });
}

/** An agent leading a one-node cluster of its own, as the integration specs start it. */
export interface LoneAgent {
  process: WatchedProcess;
  /** Its API, on loopback. */
  api: string;
}

/**
 * Starts `kraken agent` on a free loopback port, on the broker at `brokerUrl` (a vhost of the
 * spec's own), with no mDNS, apps on 127.0.0.1, and resolves once it says it is ready for a deploy.
 * `args` are added (`--runtime docker`, `--removed-retention 2s`); `env` is its environment on top of this one.
 */
export async function startLoneAgent(options: { dataDir: string; brokerUrl: string; port: number; runtime?: 'process' | 'docker'; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<LoneAgent> {
  const { dataDir, brokerUrl, port } = options;
  const agent = spawnLongRunning(
    process.execPath,
    [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', String(port), '--api-host', '127.0.0.1', '--broker-url', brokerUrl,
      '--runtime', options.runtime ?? 'process', '--no-mdns', '--public-host', '127.0.0.1', ...(options.args ?? []),
    ],
    options.env,
  );
  await agent.waitFor(/Deploy an app: kraken deploy/, 60_000);
  return { process: agent, api: `http://127.0.0.1:${String(port)}` };
}
