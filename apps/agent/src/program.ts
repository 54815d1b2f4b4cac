import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createLogger, toKrakenError } from '@kraken/common';
import { PROTOCOL_VERSION } from '@kraken/messages';
import { ApiClient } from './client/api-client.js';
import { localDataDir, resolveClientTarget } from './client/credentials.js';
import type { ExitCode } from './client/exit-codes.js';
import { ExitCode as Exit, exitCodeOf } from './client/exit-codes.js';
import type { CommandIo } from './client/io.js';
import { deployCommand } from './commands/deploy.js';
import { envListCommand, envSetCommand, envUnsetCommand } from './commands/env.js';
import { initCommand } from './commands/init.js';
import { listCommand, nodesCommand } from './commands/list.js';
import { logsCommand } from './commands/logs.js';
import { nodesWatchCommand } from './commands/nodes-watch.js';
import { releasesCommand } from './commands/releases.js';
import { promoteCommand } from './commands/promote.js';
import { caCommand, tokenCommand } from './commands/token.js';
import { lifecycleCommand } from './commands/lifecycle.js';
import type { LifecycleVerb } from './commands/lifecycle.js';
import { cancelCommand, redeployCommand, removeCommand, statusCommand } from './commands/manage.js';
import { rollbackCommand } from './commands/rollback.js';
import { serviceInstallCommand, serviceUninstallCommand } from './commands/service.js';
import { updateCommand } from './commands/update.js';
import { loadAgentConfig } from './config/agent-config.js';
import { cliEntry } from './service/cli-entry.js';
import { systemServiceHost } from './service/service-host.js';
import { UNIT_PATH } from './service/unit-file.js';
import { readInstalledAgent } from './update/installed.js';
import { runNpmInstall } from './update/npm-install.js';
import { npmRegistry } from './update/registry.js';

export interface CliContext {
  io: CommandIo;
  env: Readonly<Record<string, string | undefined>>;
  /** Ask questions (kraken init) only on a terminal. @default false */
  interactive?: boolean;
  /** Reads standard input to its end (`kraken env set <id> NAME` reads the value there). */
  readStdin?: () => Promise<string>;
  /** Ends long-running verbs (kraken agent, kraken logs -f); the binary wires SIGINT/SIGTERM to it. */
  signal?: AbortSignal;
}

type ClientFlags = { api?: string; token?: string; dataDir?: string; json?: boolean };

/** Runs one `kraken ...` invocation and resolves to its exit code; never calls process.exit itself. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  let exitCode: ExitCode = Exit.Ok;
  const program = buildProgram(context, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0
      return error.exitCode === 0 ? Exit.Ok : Exit.Usage;
    }
    const krakenError = toKrakenError(error);
    context.io.err(`kraken: ${krakenError.message}`);
    return exitCodeOf(krakenError);
  }
  return exitCode;
}

function buildProgram(context: CliContext, setExit: (code: ExitCode) => void): Command {
  const { io, env } = context;
  const installed = readInstalledAgent();
  const program = new Command('kraken')
    .description('Kraken: turn the machines on your network into a small self-hosted PaaS')
    .version(installed.version, '-V, --version', 'print the installed version of kraken')
    .exitOverride()
    .configureOutput({ writeOut: (text) => { io.out(text.trimEnd()); }, writeErr: (text) => { io.err(text.trimEnd()); } })
    .showHelpAfterError('(kraken --help lists the commands)');

  const withClient = (command: Command) =>
    command
      .option('--api <url>', 'the orchestrator API (default: $KRAKEN_API or http://127.0.0.1:4000)')
      .option('--token <token>', 'API token (default: $KRAKEN_TOKEN or the local agent\'s)')
      .option('--data-dir <dir>', 'the local agent\'s data dir, to read its token (and the cluster CA) from')
      .option('--ca <file>', 'the cluster CA certificate to trust for an https API (default: $KRAKEN_CA or the local agent\'s; kraken ca prints it)')
      .option('--json', 'machine-readable output');
  const client = (flags: ClientFlags) =>
    new ApiClient({
      ...resolveClientTarget(flags, env),
      onLeaderWait: (message) => {
        io.err(`kraken: waiting for the cluster's leader: ${message}`);
      },
    });

  program
    .command('agent')
    .description('run this machine\'s agent: join an orchestrator (found or given) or become one; runs apps')
    .option('--config <file>', 'a TOML or JSON file with these settings (snake_case or camelCase keys)')
    .option('--data-dir <dir>', 'node id, secrets, state and app folders (default ~/.kraken)')
    .option('--node-id <id>', 'this machine\'s id in the cluster (default: generated once)')
    .option('--api-port <port>', 'API and UI port when leading (default 4000)')
    .option('--api-host <host>', 'address the API listens on (default 0.0.0.0)')
    .option('--broker-url <url>', 'an external RabbitMQ (amqp://user:pass@host:5672); default: a RabbitMQ node of its own, else in-process')
    .option('--broker-port <port>', 'AMQP port of the RabbitMQ node this agent runs (default 5673)')
    .option('--managed-broker', 'run a RabbitMQ node of its own where rabbitmq-server is installed (default)')
    .option('--no-managed-broker', 'do not run a RabbitMQ node of its own (then: --broker-url, a local RabbitMQ, or in-process)')
    .option('--advertise-broker-url <url>', 'broker URL handed to joining machines')
    .option('--join <url>', 'join this orchestrator instead of looking for one')
    .option('--join-token <token>', 'the cluster\'s join token (printed by the orchestrator; `kraken token` prints it again)')
    .option('--join-token-file <file>', 'read the join token from this file (unlike --join-token, not shown by ps; or set KRAKEN_JOIN_TOKEN)')
    .option('--priority <n>', '0 leader, 1 standby, 2+ never orchestrates (default 0)')
    .addOption(new Option('--log-level <level>', 'error, warn, info or debug (default info)'))
    .addOption(new Option('--log-format <format>', 'pretty or json (default pretty)'))
    .addOption(new Option('--runtime <runtime>', 'auto, docker or process (default auto: Docker when it answers)'))
    .option('--docker-socket <path>', 'the Docker engine socket (default /var/run/docker.sock)')
    .option('--app-user <name>', 'unprivileged user process-runtime apps run as, created when missing (default kraken-app; root only)')
    .option('--no-app-user', "run process-runtime apps as the agent's own user")
    .option('--apps-dir <dir>', 'where process-runtime apps of the app user keep their folders (default /var/lib/kraken-apps)')
    .option('--interface <name>', 'network interface for mDNS (default: the first with an IPv4 address)')
    .option('--mdns', 'look for an orchestrator with mDNS, and announce when leading (default)')
    .option('--no-mdns', 'do not use mDNS')
    .option('--discovery-timeout <duration>', 'how long to look for an orchestrator (default 1.5s)')
    .option('--wait-for-leader <duration>', 'priority 2+: how long to keep looking for an orchestrator (default 5m)')
    .option('--scan-interface <name>', 'opt-in: scan this interface\'s subnet for an orchestrator')
    .option('--public-host <host>', 'host name or address used in app URLs')
    .option('--crash-loop-restarts <n>', 'failed restarts of a crashing app before it is stopped and errored (default 5)')
    .option('--crash-loop-steady-after <duration>', 'a restarted app running this long is no longer crash-looping (default 1m)')
    .option('--no-failover-builds', 'do not build apps of other machines ahead for a move here (small machines); a move here then builds')
    .option('--ingress-port <port>', 'port the ingress serves apps by name on (default 80 where allowed, else 8080)')
    .option('--ingress-host <host>', 'address the ingress listens on (default 0.0.0.0)')
    .option('--no-ingress', 'do not serve apps by name on this machine')
    .option('--webhook-url <url>', 'when leading, POST a JSON notification here for each failed deploy, moved app and dead node')
    .option('--removed-retention <duration>', 'when leading, how long a removed deployment and its log stay readable by id (default 168h)')
    .option('--insecure-no-auth', 'accept API calls without a token (trusted labs only)')
    .option('--insecure-no-tls', 'serve the API, UI and joins in clear to other machines, with no cluster CA (development only)')
    .action(async (flags: Record<string, unknown>) => {
      const { config } = loadAgentConfig({ flags, env, file: flags['config'] as string | undefined });
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      // loaded only here: client verbs should not pay for the orchestrator, GraphQL server and SQLite
      const { runAgentCommand } = await import('./run/run-agent-command.js');
      setExit(await runAgentCommand({ config, logger, io, ...(context.signal === undefined ? {} : { signal: context.signal }) }));
    });

  withClient(program.command('deploy <git-url>').description('deploy a branch of a git repository and follow it until it runs'))
    .option('-b, --branch <branch>', 'the branch to deploy', 'main')
    .option('-e, --env <NAME=value>', 'an environment variable for the app (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('-w, --watch', 'redeploy when the branch gets new commits')
    .option('-n, --name <name>', 'the name every agent serves it by (http://<name>.local); default: the repository\'s name, made unique')
    .option('--no-follow', 'print the deployment id and return at once')
    .action(async (url: string, flags: ClientFlags & { branch: string; env: string[]; watch?: boolean; name?: string; follow: boolean }) => {
      setExit(
        await deployCommand(
          client(flags),
          { url, branch: flags.branch, env: flags.env, watch: flags.watch === true, name: flags.name, follow: flags.follow, json: flags.json === true },
          io,
        ),
      );
    });

  withClient(program.command('ls').description('list deployments')).action(async (flags: ClientFlags) => {
    setExit(await listCommand(client(flags), { json: flags.json === true }, io));
  });
  withClient(program.command('nodes').description('list the machines of the cluster'))
    .option('-w, --watch', 'redraw the table every few seconds with CPU, memory and disk, now and over the last 3 minutes, until Ctrl-C')
    .option('--interval <seconds>', 'seconds between redraws with --watch (at least 0.5)', (value) => parseSeconds('--interval', value, 0.5), 2)
    .action(async (flags: ClientFlags & { watch?: boolean; interval: number }) => {
      if (flags.watch !== true) {
        setExit(await nodesCommand(client(flags), { json: flags.json === true }, io));
        return;
      }
      if (flags.json === true) {
        io.err('kraken: --watch draws a table for people; for scripts, poll kraken nodes --json');
        setExit(Exit.Usage);
        return;
      }
      const input = { intervalMs: flags.interval * 1000, clear: process.stdout.isTTY, ...(context.signal === undefined ? {} : { signal: context.signal }) };
      setExit(await nodesWatchCommand(client(flags), input, io));
    });
  withClient(program.command('logs <id>').description('print a deployment\'s log'))
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --tail <lines>', 'only the last N stored lines', (value) => parsePositiveInt('--tail', value))
    .option('-r, --release <number>', 'only the lines of this release (kraken releases <id> lists them)', (value) => parsePositiveInt('--release', value))
    .action(async (id: string, flags: ClientFlags & { follow?: boolean; tail?: number; release?: number }) => {
      setExit(
        await logsCommand(
          client(flags),
          { id, follow: flags.follow === true, tail: flags.tail, release: flags.release, json: flags.json === true, ...(context.signal === undefined ? {} : { signal: context.signal }) },
          io,
        ),
      );
    });
  withClient(program.command('releases <id>').description('list the builds of a deployment: commit, trigger, start, duration, result')).action(
    async (id: string, flags: ClientFlags) => {
      setExit(await releasesCommand(client(flags), { id, json: flags.json === true }, io));
    },
  );
  withClient(program.command('cancel <id>').description('stop and remove a deployment')).action(async (id: string, flags: ClientFlags) => {
    setExit(await cancelCommand(client(flags), { id, json: flags.json === true }, io));
  });
  withClient(program.command('rm <id>').description('remove a destroyed or errored deployment from the list (its log is kept for a while)')).action(
    async (id: string, flags: ClientFlags) => {
      setExit(await removeCommand(client(flags), { id, json: flags.json === true }, io));
    },
  );
  const lifecycleVerbs: [LifecycleVerb, string][] = [
    ['stop', 'stop a running deployment, keeping its image or built folder, name, port and log (no destroy)'],
    ['start', 'run a stopped deployment again from what was built (no build, no test)'],
    ['restart', 'stop and start a deployment in place (no build)'],
  ];
  for (const [verb, description] of lifecycleVerbs) {
    withClient(program.command(`${verb} <id>`).description(description).option('--no-wait', 'return once requested, without waiting for the node')).action(
      async (id: string, flags: ClientFlags & { wait?: boolean }) => {
        setExit(await lifecycleCommand(client(flags), verb, { id, json: flags.json === true, noWait: flags.wait === false }, io));
      },
    );
  }
  withClient(program.command('redeploy <id>').description('deploy the branch head again')).action(async (id: string, flags: ClientFlags) => {
    setExit(await redeployCommand(client(flags), { id, json: flags.json === true }, io));
  });
  withClient(program.command('rollback <id>').description('run an earlier successful release again from the build its node kept (no build)'))
    .option('--to <commit>', 'a commit of one of the last three successful releases (default: the one before the running one)')
    .option('--no-wait', 'return once requested, without waiting for the node')
    .action(async (id: string, flags: ClientFlags & { to?: string; wait?: boolean }) => {
      setExit(await rollbackCommand(client(flags), { id, to: flags.to, json: flags.json === true, noWait: flags.wait === false }, io));
    });
  const envCommand = withClient(program.command('env').description("a deployment's environment variables (values are never shown)"))
    .argument('<id>', 'the deployment')
    .action(async (id: string, flags: ClientFlags) => {
      setExit(await envListCommand(client(flags), { id, json: flags.json === true }, io));
    });
  withClient(envCommand.command('set').description('set variables; a running app restarts with them, without a rebuild'))
    .argument('<id>', 'the deployment')
    .argument('<NAME=value...>', 'variables to set; NAME alone reads its value from stdin, keeping it out of the shell history')
    .action(async (id: string, assignments: string[], _flags: ClientFlags, command: Command) => {
      // --api and the others are the parent's options too, which commander hands to the parent
      const flags = command.optsWithGlobals<ClientFlags>();
      if (context.interactive === true && assignments.some((assignment) => !assignment.includes('='))) io.err('kraken: type the value, then Enter and Ctrl-D');
      setExit(await envSetCommand(client(flags), { id, assignments, json: flags.json === true, readStdin: context.readStdin }, io));
    });
  withClient(envCommand.command('unset').description('remove variables; a running app restarts without them'))
    .argument('<id>', 'the deployment')
    .argument('<NAME...>', 'the variables to remove')
    .action(async (id: string, names: string[], _flags: ClientFlags, command: Command) => {
      const flags = command.optsWithGlobals<ClientFlags>();
      setExit(await envUnsetCommand(client(flags), { id, names, json: flags.json === true }, io));
    });
  withClient(program.command('status').description('the cluster at a glance; exit 1 when a platform service is down')).action(async (flags: ClientFlags) => {
    setExit(await statusCommand(client(flags), { json: flags.json === true }, io));
  });

  program
    .command('token')
    .description('print the cluster\'s join token (from the local agent\'s secrets; run it where the leader runs or ran)')
    .option('--data-dir <dir>', 'the local agent\'s data dir (default: $KRAKEN_DATA_DIR or ~/.kraken)')
    .option('--json', 'machine-readable output')
    .action((flags: { dataDir?: string; json?: boolean }) => {
      setExit(tokenCommand({ dataDir: localDataDir(flags, env), json: flags.json === true }, io));
    });

  program
    .command('ca')
    .description('print the cluster CA certificate this agent keeps, for clients on other machines to trust (--ca, curl --cacert, a browser)')
    .option('--data-dir <dir>', 'the local agent\'s data dir (default: $KRAKEN_DATA_DIR or ~/.kraken)')
    .action((flags: { dataDir?: string }) => {
      setExit(caCommand({ dataDir: localDataDir(flags, env) }, io));
    });

  program
    .command('promote')
    .description('two machines that may lead, the leader\'s gone: make this machine\'s standby lead (run it there; see the README for what is lost)')
    .option('--data-dir <dir>', 'the local agent\'s data dir (default: $KRAKEN_DATA_DIR or ~/.kraken)')
    .option('--json', 'machine-readable output')
    .action(async (flags: { dataDir?: string; json?: boolean }) => {
      setExit(await promoteCommand({ dataDir: localDataDir(flags, env), json: flags.json === true }, io));
    });

  program
    .command('init [dir]')
    .description('write a shipwreck.toml for the app in dir (default: the current folder)')
    .option('--lang <lang>', 'node, python3 (or python), static or custom (default: detected)')
    .option('--name <name>', 'app name (default: the folder name)')
    .option('--port <port>', 'the port the app listens on', (value) => parsePositiveInt('--port', value))
    .option('--run <command>', 'start command')
    .option('--test <command>', 'test command ("" for none)')
    .option('--force', 'overwrite an existing shipwreck.toml')
    .option('-y, --yes', 'do not ask; use flags, detection and defaults')
    .action(async (dir: string | undefined, flags: { lang?: string; name?: string; port?: number; run?: string; test?: string; force?: boolean; yes?: boolean }) => {
      setExit(
        await initCommand(
          { dir: dir ?? process.cwd(), lang: flags.lang, name: flags.name, port: flags.port, run: flags.run, test: flags.test, force: flags.force === true, interactive: context.interactive === true && flags.yes !== true },
          io,
        ),
      );
    });
  const service = program.command('service').description('start the agent at boot with systemd');
  service
    .command('install')
    .description(`write ${UNIT_PATH} running kraken agent, then enable and start it (without systemd: print what to do)`)
    .argument('[agent-args...]', 'extra kraken agent arguments, after --')
    .option('--dry-run', 'print the unit (on stdout) and the commands, change nothing')
    .option('--user <user>', 'the user the agent runs as (default: you, also under sudo)')
    .option('--data-dir <dir>', 'the agent\'s data dir (default: $KRAKEN_DATA_DIR, else ~/.kraken of --user)')
    .showHelpAfterError('(options for kraken agent go after --, as in: kraken service install -- --no-mdns)')
    .action(async (agentArgs: string[], flags: { dryRun?: boolean; user?: string; dataDir?: string }) => {
      setExit(
        await serviceInstallCommand(
          { dryRun: flags.dryRun === true, user: flags.user, dataDir: flags.dataDir, agentArgs, node: process.execPath, cli: cliEntry(), env },
          systemServiceHost(env),
          io,
        ),
      );
    });
  service
    .command('uninstall')
    .description('stop and disable the service and remove its unit (apps keep running)')
    .option('--dry-run', 'print the commands, change nothing')
    .action(async (flags: { dryRun?: boolean }) => {
      setExit(await serviceUninstallCommand({ dryRun: flags.dryRun === true }, systemServiceHost(env), io));
    });

  program
    .command('update')
    .description('install the latest @kraken/agent from the npm registry, when it speaks this cluster\'s protocol version')
    .option('--check', 'only say whether there is an update')
    .option('-y, --yes', 'do not ask')
    .option('--force', 'update even to a release that speaks another protocol version')
    .option('--dry-run', 'print the npm command instead of running it')
    .option('--registry <url>', 'the npm registry (default: npm config get registry)')
    .action(async (flags: { check?: boolean; yes?: boolean; force?: boolean; dryRun?: boolean; registry?: string }) => {
      const host = systemServiceHost(env);
      setExit(
        await updateCommand(
          { check: flags.check === true, yes: flags.yes === true, force: flags.force === true, dryRun: flags.dryRun === true, registry: flags.registry },
          {
            installed,
            protocolVersion: PROTOCOL_VERSION,
            npmRegistry,
            install: runNpmInstall,
            confirm: context.interactive === true ? askYesNo : undefined,
            serviceInstalled: () => host.readFile(UNIT_PATH) !== undefined,
          },
          io,
        ),
      );
    });
  return program;
}

async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function parseSeconds(flag: string, value: string, min: number): number {
  const n = Number(value);
  // InvalidArgumentError: commander prints it (naming the option) before it ends the parse
  if (value.trim() === '' || !Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${flag}: expected a number of seconds >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag}: expected a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}
