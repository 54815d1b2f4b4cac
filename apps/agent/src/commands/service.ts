import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { ServiceHost } from '../service/service-host.js';
import { cronLine, shellLine } from '../service/shell-words.js';
import type { ServiceSpec } from '../service/unit-file.js';
import { ENV_FILE_PATH, SERVICE_NAME, UNIT_PATH, checkUserName, renderEnvFile, renderUnit } from '../service/unit-file.js';

export interface ServiceInstallInput {
  dryRun: boolean;
  /** --user; default: the user who ran sudo, else the user running the command. */
  user?: string | undefined;
  /** --data-dir; default: $KRAKEN_DATA_DIR, else ~/.kraken of the service's user. */
  dataDir?: string | undefined;
  /** What followed `--`: extra `kraken agent` arguments. */
  agentArgs: readonly string[];
  /** The node binary and CLI entry point the unit runs. */
  node: string;
  cli: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * `kraken service install`: writes a systemd unit that runs `kraken agent` at boot, then enables and
 * starts it. Where there is no systemd it changes nothing and prints what to do instead (exit 1).
 * The unit goes to stdout and everything else to stderr, so `--dry-run > kraken.service` saves it.
 */
export async function serviceInstallCommand(input: ServiceInstallInput, host: ServiceHost, io: CommandIo): Promise<ExitCode> {
  const spec = await resolveSpec(input, host);
  const unit = renderUnit(spec);
  const envFile = renderEnvFile(spec);
  const existing = host.readFile(UNIT_PATH);
  const unchanged = existing === unit && host.readFile(ENV_FILE_PATH) === envFile;
  const steps: string[][] =
    existing === undefined || unchanged
      ? [['daemon-reload'], ['enable', '--now', SERVICE_NAME]]
      : // an agent already running from the old unit keeps its old settings until restarted
        [['daemon-reload'], ['enable', SERVICE_NAME], ['restart', SERVICE_NAME]];
  const systemd = host.systemd();

  if (input.dryRun) {
    io.out(unit.trimEnd());
    io.err(`# dry run, nothing changed: kraken service install would write ${UNIT_PATH} (the unit above) and run:`);
    if (envFile !== undefined) io.err(`# and ${ENV_FILE_PATH} (mode 0600, root) with ${Object.keys(spec.secretEnv).join(', ')} (not shown)`);
    for (const args of steps) io.err(`#   systemctl ${shellLine(args)}`);
    if (!systemd.running) io.err(`# note: ${systemd.reason}, so it would print what to do instead`);
    return ExitCode.Ok;
  }

  if (!systemd.running) {
    io.out(unit.trimEnd());
    io.err(`kraken: ${systemd.reason}: nothing was installed.`);
    io.err(`On a machine with systemd, save the unit above as ${UNIT_PATH} and run, as root:`);
    if (envFile !== undefined) io.err(`  (and put ${Object.keys(spec.secretEnv).map((name) => `${name}=<value>`).join(' ')} in ${ENV_FILE_PATH}, mode 0600)`);
    for (const args of steps) io.err(`  systemctl ${shellLine(args)}`);
    io.err(`Without systemd, start the agent at boot from ${spec.user}'s crontab (crontab -e${spec.user === host.currentUser() ? '' : ` -u ${spec.user}`}) with this line (cron does not restart it if it stops):`);
    io.err(`  ${cronLine(spec)}`);
    return ExitCode.Failed;
  }

  try {
    // the secrets first: a unit naming an environment file that is not there yet would fail to start
    if (envFile !== undefined) host.writeFile(ENV_FILE_PATH, envFile, 0o600);
    else host.removeFile(ENV_FILE_PATH);
    host.writeFile(UNIT_PATH, unit, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' ? ': run kraken service install as root (sudo)' : '';
    io.err(`kraken: cannot write ${UNIT_PATH}: ${error instanceof Error ? error.message : String(error)}${hint}`);
    return ExitCode.Failed;
  }
  io.out(`${existing === undefined ? 'wrote' : unchanged ? 'kept' : 'replaced'} ${UNIT_PATH}`);
  if (envFile !== undefined) io.out(`wrote ${ENV_FILE_PATH} (mode 0600: ${Object.keys(spec.secretEnv).join(', ')} stays out of the unit and of ps)`);
  if (!(await runSteps(steps, host, io, `the unit is in ${UNIT_PATH}`))) return ExitCode.Failed;
  io.out(`kraken starts at boot and runs now, as ${spec.user} with data dir ${spec.dataDir}.`);
  io.out(`  logs: journalctl -u ${SERVICE_NAME} -f    stop: systemctl stop ${SERVICE_NAME}    remove: kraken service uninstall`);
  io.out('  An agent you started by hand on the same data dir must be stopped: only one can run.');
  return ExitCode.Ok;
}

/** `kraken service uninstall`: stops and disables the unit and removes it. Apps keep running. */
export async function serviceUninstallCommand(input: { dryRun: boolean }, host: ServiceHost, io: CommandIo): Promise<ExitCode> {
  const systemd = host.systemd();
  if (host.readFile(UNIT_PATH) === undefined) {
    io.out(`no kraken service is installed (no ${UNIT_PATH}): nothing to do.`);
    if (!systemd.running) io.out('If a crontab @reboot line starts the agent, remove it with crontab -e.');
    return ExitCode.Ok;
  }
  const plan = [`systemctl disable --now ${SERVICE_NAME}`, `rm -f ${shellLine([UNIT_PATH, ENV_FILE_PATH])}`, 'systemctl daemon-reload'];
  if (input.dryRun) {
    io.out('dry run, nothing changed: kraken service uninstall would run:');
    for (const line of plan) io.out(`  ${line}`);
    return ExitCode.Ok;
  }
  if (!systemd.running) {
    io.err(`kraken: ${systemd.reason}: nothing was changed. Where systemd runs, this removes the service, as root:`);
    for (const line of plan) io.err(`  ${line}`);
    return ExitCode.Failed;
  }
  if (!(await runSteps([['disable', '--now', SERVICE_NAME]], host, io, `${UNIT_PATH} was left in place`))) return ExitCode.Failed;
  try {
    host.removeFile(UNIT_PATH);
    host.removeFile(ENV_FILE_PATH);
  } catch (error) {
    io.err(`kraken: cannot remove ${UNIT_PATH}: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.Failed;
  }
  io.out(`removed ${UNIT_PATH}`);
  if (!(await runSteps([['daemon-reload']], host, io, 'the unit file is gone'))) return ExitCode.Failed;
  io.out('kraken no longer starts at boot. Apps it started keep running; the next kraken agent on the same data dir takes them over.');
  return ExitCode.Ok;
}

async function runSteps(steps: readonly string[][], host: ServiceHost, io: CommandIo, state: string): Promise<boolean> {
  for (const [index, args] of steps.entries()) {
    io.out(`$ systemctl ${shellLine(args)}`);
    const code = await host.systemctl(args);
    if (code !== 0) {
      const rest = steps.slice(index + 1).map((next) => `systemctl ${shellLine(next)}`);
      io.err(`kraken: systemctl ${shellLine(args)} exited with ${code}; ${state}.${rest.length === 0 ? '' : ` After fixing it, run: ${rest.join('; ')}`}`);
      return false;
    }
  }
  return true;
}

async function resolveSpec(input: ServiceInstallInput, host: ServiceHost): Promise<ServiceSpec> {
  // under sudo, the user who ran it: the client verbs they type read the agent's token from their ~/.kraken
  const sudoUser = input.env['SUDO_USER'];
  const user = input.user ?? (sudoUser === undefined || sudoUser === '' ? host.currentUser() : sudoUser);
  checkUserName(user);
  const home = await host.homeOf(user);
  if (home === undefined) {
    throw new KrakenError(ErrorCode.InvalidInput, `--user: there is no user ${JSON.stringify(user)} on this machine (getent passwd ${user} found nothing)`, {
      details: { field: 'user' },
    });
  }
  // the same default `kraken agent` uses, so the service keeps the node id and tokens of a hand-started agent
  const dataDir = path.resolve(input.dataDir ?? input.env['KRAKEN_DATA_DIR'] ?? path.join(home, '.kraken'));
  const { agentArgs, joinToken } = withoutJoinToken(input.agentArgs);
  return { node: input.node, cli: input.cli, user, dataDir, agentArgs, secretEnv: joinToken === undefined ? {} : { KRAKEN_JOIN_TOKEN: joinToken } };
}

/** `--join-token T` / `--join-token=T` taken out of the agent's arguments, which the unit and `ps` show. */
function withoutJoinToken(args: readonly string[]): { agentArgs: string[]; joinToken: string | undefined } {
  const agentArgs: string[] = [];
  let joinToken: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--join-token') {
      joinToken = args[i + 1];
      if (joinToken === undefined) throw new KrakenError(ErrorCode.InvalidInput, '--join-token: give the token after it', { details: { field: 'join-token' } });
      i++;
    } else if (arg.startsWith('--join-token=')) {
      joinToken = arg.slice('--join-token='.length);
    } else {
      agentArgs.push(arg);
    }
  }
  return { agentArgs, joinToken };
}
