import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { ErrorCode, KrakenError } from '@kraken/common';

/**
 * What the deployer writes per deployment so that a restarted agent finds its apps again and can
 * restart them: the command and environment, and which process (pid + start time) runs it now.
 * Holds the app's environment (possibly secrets), so it is written readable by its owner only.
 */
export interface ProcessState {
  v: 1;
  deploymentId: string;
  nodeId: string;
  appName: string;
  commit: string;
  lang: 'node' | 'python3' | 'static';
  /**
   * starting: deploy in progress (an agent that finds this after a restart discards it); running:
   * deployed; stopped: stopped on request, its folder kept for a start without a build (an agent
   * that finds it after a restart leaves it stopped).
   */
  phase: 'starting' | 'running' | 'stopped';
  /** argv of the supervised process; it runs in `cwd` with exactly `env`. */
  command: string[];
  cwd: string;
  /**
   * The folder of the build this version runs from (see buildPaths): each version has its own, so
   * another is built beside it. Absent in files of older agents, whose build is the deployment's
   * folder itself; migrateLegacyLayout records that.
   */
  buildDir?: string;
  env: Record<string, string>;
  /**
   * What the build step added to the environment (PYTHONPATH of installed requirements...), so a
   * restart with changed settings from the same build keeps it. Absent in files of older agents,
   * whose apps then rebuild on a settings change.
   */
  builtEnv?: Record<string, string>;
  /** Memory and CPU limits its control group holds it to (from the request or the manifest); absent: none. */
  limits?: { memoryMb?: number; cpus?: number };
  /**
   * The name of its control group (see Cgroups), when it is not the deployment id: a version
   * started beside the serving one gets a group of its own, so the two are not held to one limit.
   */
  cgroup?: string;
  /**
   * The unprivileged account the app runs as (its restarts too, whatever the agent's setting is
   * now: its files are that account's); absent: the agent's user.
   */
  user?: { name: string; uid: number; gid: number };
  /** The port the app listens on (the host port: processes have no port mapping); undefined for apps without one. */
  hostPort: number | undefined;
  /** Path probed for readiness. */
  endpoint: string;
  /** The process most recently started; it leads its own process group (pgid = pid). */
  pid: number;
  /** Its start time in clock ticks after boot, from /proc/<pid>/stat, to tell it from a later process with a reused pid. */
  startTime: number;
  /** ISO time the current process started. */
  startedAt: string;
  restarts: number;
  /** ISO time of the deploy. */
  createdAt: string;
}

const LANGS = ['node', 'python3', 'static'] as const;
const PHASES = ['starting', 'running', 'stopped'] as const;

/** Parses and checks a state file's text; the error names the file and the first field that is wrong. */
export function parseState(text: string, file: string): ProcessState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw bad(file, `is not JSON (${(cause as Error).message})`, cause);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(file, 'must hold a JSON object');
  const doc = raw as Record<string, unknown>;
  if (doc['v'] !== 1) throw bad(file, `has version ${JSON.stringify(doc['v'])}; this deployer reads version 1`);
  const str = (name: string): string => {
    const value = doc[name];
    if (typeof value !== 'string') throw bad(file, `field ${name} must be a string; got ${describe(value)}`);
    return value;
  };
  const int = (name: string, min: number, max: number): number => {
    const value = doc[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw bad(file, `field ${name} must be a whole number from ${min} to ${max}; got ${describe(value)}`);
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T => {
    const value = doc[name];
    if (!allowed.includes(value as T)) throw bad(file, `field ${name} must be one of ${allowed.join(', ')}; got ${describe(value)}`);
    return value as T;
  };
  const command = doc['command'];
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === 'string')) {
    throw bad(file, `field command must be a non-empty array of strings; got ${describe(command)}`);
  }
  const strings = (name: string): Record<string, string> => {
    const value = doc[name];
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((entry) => typeof entry === 'string')) {
      throw bad(file, `field ${name} must be an object of strings; got ${describe(value)}`);
    }
    return { ...(value as Record<string, string>) };
  };
  return {
    v: 1,
    deploymentId: str('deploymentId'),
    nodeId: str('nodeId'),
    appName: str('appName'),
    commit: str('commit'),
    lang: oneOf('lang', LANGS),
    phase: oneOf('phase', PHASES),
    command: [...command],
    cwd: str('cwd'),
    ...(doc['buildDir'] === undefined ? {} : { buildDir: str('buildDir') }),
    env: strings('env'),
    ...(doc['builtEnv'] === undefined ? {} : { builtEnv: strings('builtEnv') }),
    ...(doc['limits'] === undefined ? {} : { limits: limitsOf(doc['limits'], file) }),
    ...(doc['cgroup'] === undefined ? {} : { cgroup: str('cgroup') }),
    ...(doc['user'] === undefined ? {} : { user: userOf(doc['user'], file) }),
    hostPort: doc['hostPort'] === undefined || doc['hostPort'] === null ? undefined : int('hostPort', 1, 65535),
    endpoint: str('endpoint'),
    pid: int('pid', 1, 2 ** 22),
    startTime: int('startTime', 0, Number.MAX_SAFE_INTEGER),
    startedAt: str('startedAt'),
    restarts: int('restarts', 0, Number.MAX_SAFE_INTEGER),
    createdAt: str('createdAt'),
  };
}

export async function readState(file: string): Promise<ProcessState> {
  return parseState(await readFile(file, 'utf8'), file);
}

/** Written to a temporary name and renamed, so a crash mid-write never leaves half a file. */
export async function writeState(file: string, state: ProcessState): Promise<void> {
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function bad(file: string, message: string, cause?: unknown): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `state file ${file} ${message}`, { details: { file }, cause });
}

function limitsOf(value: unknown, file: string): { memoryMb?: number; cpus?: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(file, `field limits must be an object; got ${describe(value)}`);
  const { memoryMb, cpus } = value as Record<string, unknown>;
  if (memoryMb !== undefined && (typeof memoryMb !== 'number' || !Number.isSafeInteger(memoryMb) || memoryMb < 1)) {
    throw bad(file, `field limits.memoryMb must be a whole number of megabytes; got ${describe(memoryMb)}`);
  }
  if (cpus !== undefined && (typeof cpus !== 'number' || !Number.isFinite(cpus) || cpus <= 0)) {
    throw bad(file, `field limits.cpus must be a positive number; got ${describe(cpus)}`);
  }
  return { ...(memoryMb === undefined ? {} : { memoryMb }), ...(cpus === undefined ? {} : { cpus }) };
}

function userOf(value: unknown, file: string): { name: string; uid: number; gid: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(file, `field user must be an object; got ${describe(value)}`);
  const { name, uid, gid } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw bad(file, `field user.name must be a user name; got ${describe(name)}`);
  for (const [field, id] of [['uid', uid], ['gid', gid]] as const) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw bad(file, `field user.${field} must be a whole number above 0; got ${describe(id)}`);
  }
  return { name, uid: uid as number, gid: gid as number };
}
