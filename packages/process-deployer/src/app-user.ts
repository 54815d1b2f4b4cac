import { chmod, chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { toKrakenError } from '@kraken/common';
import { runCommand } from './commands.js';
import type { CommandOutcome, RunAs } from './commands.js';
import { deploymentsDir } from './layout.js';
import { formatOutput } from './lines.js';
import type { CompiledProcessOptions } from './options.js';

/** The unprivileged account apps, their installs and tests run as. */
export interface AppAccount extends RunAs {
  name: string;
  /** HOME of its processes (npm's cache lives there): a folder of the deployer's it owns. */
  home: string;
}

/** Whom apps run as: the account, or the agent's own user and why. */
type AppUserChoice = { account: AppAccount; staticNode: string } | { account: undefined; reason: string };

interface AppUserInput {
  /** The wanted account's name; undefined: turned off. */
  wanted: string | undefined;
  /** The deployer's folder of deployments: the account must reach its checkouts there. */
  deploymentsDir: string;
  /** HOME for the account's processes, created and handed to it. */
  home: string;
  shell: string;
  /** The node that runs the built-in static file server. */
  node: string;
  env: Readonly<Record<string, string>>;
  /** Where the deployer may create control groups: an app in one joins it as root, then setpriv drops to the account. */
  needsSetpriv: boolean;
}

/** A probe or an account lookup that takes longer than this has failed. */
const PROBE_TIMEOUT_MS = 30_000;

/**
 * Why apps cannot run as a dedicated account before anything is looked up: turned off, or the
 * agent is not root (only root may create users and start processes as another). Undefined: try.
 */
export function appUserBlocker(wanted: string | undefined, agentUid: number): string | undefined {
  if (wanted === undefined) return 'running apps as a dedicated user is turned off (--no-app-user)';
  if (agentUid !== 0) return `the agent is not root (uid ${String(agentUid)}), so it cannot run apps as ${wanted}`;
  return undefined;
}

/** uid and gid from a `getent passwd` line (`name:x:uid:gid:gecos:home:shell`); undefined for anything else. */
export function parsePasswdLine(line: string, name: string): RunAs | undefined {
  const fields = line.trim().split(':');
  if (fields.length < 7 || fields[0] !== name) return undefined;
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  return Number.isSafeInteger(uid) && Number.isSafeInteger(gid) && fields[2] !== '' && fields[3] !== '' ? { uid, gid } : undefined;
}

/**
 * Whether the account may be trusted with apps: not root, and not the agent's own uid (then it
 * would read the agent's data and signal it). Undefined: it may.
 */
export function accountProblem(name: string, ids: RunAs, agentUid: number): string | undefined {
  if (ids.uid === 0) return `the user ${name} is root (uid 0): apps would run with every privilege`;
  if (ids.uid === agentUid) return `the user ${name} is the agent's own user (uid ${String(ids.uid)})`;
  return undefined;
}

/**
 * Finds (or, being root, creates with `useradd --system`) the account apps run as, and checks
 * once that it can do what apps need: enter the deployments folder and run `node` from the apps'
 * PATH. Where it cannot, apps run as the agent's user, and the choice says why. A real account,
 * not a bare uid: apps and npm ask for their user's passwd entry (`os.userInfo()`).
 */
async function chooseAppUser(input: AppUserInput): Promise<AppUserChoice> {
  const agentUid = process.getuid?.() ?? -1;
  const blocker = appUserBlocker(input.wanted, agentUid);
  if (blocker !== undefined || input.wanted === undefined) return { account: undefined, reason: blocker ?? 'turned off' };
  const name = input.wanted;
  const found = await findOrCreate(name, input.env);
  if (typeof found === 'string') return { account: undefined, reason: found };
  const problem = accountProblem(name, found, agentUid);
  if (problem !== undefined) return { account: undefined, reason: problem };
  const account: AppAccount = { name, ...found, home: input.home };
  await mkdir(account.home, { recursive: true, mode: 0o700 });
  await chown(account.home, account.uid, account.gid);
  await chmod(account.home, 0o700);
  const env = withAccountEnv(input.env, account);
  const run = (argv: string[]): Promise<CommandOutcome> => runCommand(argv, { cwd: '/', env, timeoutMs: PROBE_TIMEOUT_MS, tailLines: 5, runAs: account });
  // what every node app needs: its folder under ours, and node on PATH (a node under /root is out of its reach)
  const reach = await run([input.shell, '-c', 'cd "$1" && node -v', 'kraken-probe', input.deploymentsDir]);
  if (!succeeded(reach)) return { account: undefined, reason: `the user ${name} cannot enter ${input.deploymentsDir} or run node from PATH${outcomeText(reach)}` };
  if (input.needsSetpriv && !succeeded(await runCommand(['setpriv', '--version'], { cwd: '/', env: input.env, timeoutMs: PROBE_TIMEOUT_MS, tailLines: 5 }))) {
    return { account: undefined, reason: `setpriv (util-linux) is not installed: an app with limits joins its control group as root and needs it to become ${name}` };
  }
  // the static file server runs on the agent's node where the account may run it, else on the node the probe found
  const staticNode = succeeded(await run([input.node, '-v'])) ? input.node : 'node';
  return { account, staticNode };
}

/**
 * Whom a deployer's apps run as (see the `appUser` option), said in the log either way, and the
 * options they run with (the account's HOME and name, the node the static server runs on). The
 * data folder is opened for traversal (0711: the account reaches its checkouts by name, lists
 * nothing, and reads none of the state and log files, which are 0600) only while apps run as
 * that account; else it is 0700.
 */
export async function setUpAppUser(
  options: CompiledProcessOptions,
  limits: boolean,
): Promise<{ options: CompiledProcessOptions; account: AppAccount | undefined; whyNot?: string }> {
  const folders = [options.dataDir, deploymentsDir(options.dataDir)];
  const setModes = async (mode: number): Promise<void> => {
    for (const folder of folders) await chmod(folder, mode);
  };
  let choice: AppUserChoice;
  try {
    if (options.appUser !== undefined) await setModes(0o711);
    choice = await chooseAppUser({
      wanted: options.appUser,
      deploymentsDir: deploymentsDir(options.dataDir),
      home: path.join(options.dataDir, 'home'),
      shell: options.shell,
      node: options.node,
      env: options.baseEnv,
      needsSetpriv: limits,
    });
  } catch (error) {
    choice = { account: undefined, reason: `could not set up the user ${options.appUser ?? ''}: ${toKrakenError(error).message}` };
  }
  if (choice.account === undefined) {
    await setModes(0o700);
    const say = options.appUser === undefined ? options.logger.info.bind(options.logger) : options.logger.warn.bind(options.logger);
    say(`apps run as the agent's own user, so they can read its files and signal it: ${choice.reason}`);
    return { options, account: undefined, whyNot: choice.reason };
  }
  const { account, staticNode } = choice;
  options.logger.info(`apps, their installs and tests run as the unprivileged user ${account.name} (uid ${String(account.uid)})`);
  return { options: { ...options, baseEnv: withAccountEnv(options.baseEnv, account), node: staticNode }, account };
}

/** The environment a process of the account starts from: its own HOME and name, not the agent's. */
export function withAccountEnv(env: Readonly<Record<string, string>>, account: AppAccount): Record<string, string> {
  return { ...env, HOME: account.home, USER: account.name, LOGNAME: account.name };
}

/** Gives a folder the app made or runs in (its checkout, its installs) to the account, symlinks themselves and not what they point at. */
export async function handOver(dir: string, account: AppAccount | undefined, env: Readonly<Record<string, string>>): Promise<void> {
  if (account === undefined) return;
  const outcome = await runCommand(['chown', '-R', '-P', `${String(account.uid)}:${String(account.gid)}`, dir], { cwd: path.dirname(dir), env, timeoutMs: PROBE_TIMEOUT_MS * 4, tailLines: 5 });
  if (!succeeded(outcome)) throw new Error(`could not give ${dir} to the user ${account.name}${outcomeText(outcome)}`);
}

async function findOrCreate(name: string, env: Readonly<Record<string, string>>): Promise<RunAs | string> {
  const found = await lookup(name, env);
  if (found !== undefined) return found;
  const created = await runCommand(['useradd', '--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], {
    cwd: '/',
    env,
    timeoutMs: PROBE_TIMEOUT_MS,
    tailLines: 5,
  });
  // another agent on this machine may have created it meanwhile (useradd then fails): look again either way
  const again = await lookup(name, env);
  if (again !== undefined) return again;
  return `the user ${name} does not exist and could not be created with useradd${outcomeText(created)}`;
}

async function lookup(name: string, env: Readonly<Record<string, string>>): Promise<RunAs | undefined> {
  const outcome = await runCommand(['getent', 'passwd', name], { cwd: '/', env, timeoutMs: PROBE_TIMEOUT_MS, tailLines: 5 });
  if (!succeeded(outcome)) return undefined;
  for (const line of outcome.tail) {
    const ids = parsePasswdLine(line, name);
    if (ids !== undefined) return ids;
  }
  return undefined;
}

function succeeded(outcome: CommandOutcome): boolean {
  return outcome.kind === 'exited' && outcome.exitCode === 0;
}

function outcomeText(outcome: CommandOutcome): string {
  switch (outcome.kind) {
    case 'exited':
      return `: exit code ${String(outcome.exitCode)}${formatOutput(outcome.tail)}`;
    case 'not-started':
      return `: ${outcome.error.message}`;
    default:
      return `: ${outcome.kind}${formatOutput(outcome.tail)}`;
  }
}
