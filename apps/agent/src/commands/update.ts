import { ErrorCode, KrakenError } from '@kraken/common';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import { shellLine } from '../service/shell-words.js';
import { SERVICE_NAME } from '../service/unit-file.js';
import type { InstalledAgent } from '../update/installed.js';
import { globalPrefixOf } from '../update/installed.js';
import type { InstallPlan } from '../update/npm-install.js';
import { npmInstallArgs } from '../update/npm-install.js';
import type { FetchLike } from '../update/registry.js';
import { fetchLatestRelease, normalizeRegistry } from '../update/registry.js';
import { compareVersions } from '../update/version.js';

export interface UpdateInput {
  /** Only say whether there is an update. */
  check: boolean;
  /** Install without asking. */
  yes: boolean;
  /** Update across a protocol version change. */
  force: boolean;
  /** Print the npm command instead of running it. */
  dryRun: boolean;
  registry?: string | undefined;
}

/** The world `kraken update` talks to; the CLI wires the real one, tests their own. */
export interface UpdateDeps {
  installed: InstalledAgent;
  /** The wire protocol version this install speaks (PROTOCOL_VERSION). */
  protocolVersion: number;
  npmRegistry(): Promise<string>;
  fetch?: FetchLike;
  /** Runs the global install; resolves to npm's exit code. */
  install(plan: InstallPlan): Promise<number>;
  /** Asks a yes/no question; undefined when there is no terminal to ask on. */
  confirm: ((question: string) => Promise<boolean>) | undefined;
  /** Whether `kraken service install` set up the boot-time service here. */
  serviceInstalled(): boolean;
}

/**
 * `kraken update`: compares this install with the registry's latest @kraken/agent and installs it
 * when asked. A release speaking another protocol version cannot work with the rest of the cluster,
 * so it is installed only with --force.
 */
export async function updateCommand(input: UpdateInput, deps: UpdateDeps, io: CommandIo): Promise<ExitCode> {
  const { installed } = deps;
  const registry = input.registry === undefined ? await deps.npmRegistry() : normalizeRegistry(input.registry, '--registry');
  const latest = await fetchLatestRelease({ registry, name: installed.name, ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }) });

  if (compareVersions(latest.version, installed.version) <= 0) {
    io.out(`${installed.name} ${installed.version} is up to date (latest on ${registry}: ${latest.version}).`);
    return ExitCode.Ok;
  }
  io.out(`${installed.name} ${latest.version} is available on ${registry} (installed: ${installed.version}).`);

  if (latest.protocolVersion === deps.protocolVersion) {
    io.out(`  It speaks protocol version ${latest.protocolVersion}, like this install and the rest of its cluster.`);
  } else {
    const difference =
      latest.protocolVersion === undefined
        ? 'its package.json does not say which protocol version it speaks (no "kraken.protocolVersion")'
        : `it speaks protocol version ${latest.protocolVersion} and this install speaks ${deps.protocolVersion}`;
    const together = `a cluster's nodes and its orchestrator must speak the same version, so the other nodes of this cluster and its orchestrator must be updated together with this one`;
    if (!input.force) {
      throw new KrakenError(
        ErrorCode.UnsupportedVersion,
        `not updating to ${installed.name} ${latest.version}: ${difference}; ${together}. To do that, run kraken update --force on every machine (the orchestrator's too) and restart their agents.`,
        { details: { installedProtocolVersion: deps.protocolVersion, latestProtocolVersion: latest.protocolVersion } },
      );
    }
    io.err(`kraken: updating across protocol versions (--force): ${difference}; ${together}, or they will refuse this node.`);
  }

  const plan: InstallPlan = { name: installed.name, version: latest.version, registry, prefix: globalPrefixOf(installed) };
  const command = `npm ${shellLine(npmInstallArgs(plan))}`;
  if (input.check) {
    io.out(`  Install it with: kraken update${input.force ? ' --force' : ''} (runs ${command})`);
    return ExitCode.Ok;
  }
  if (plan.prefix === undefined) {
    io.err(`kraken: note: this kraken runs from ${installed.packageRoot}, not from a global npm install; npm puts the update under its own global prefix.`);
  }
  if (input.dryRun) {
    io.out(`dry run, nothing changed: kraken update would run: ${command}`);
    return ExitCode.Ok;
  }
  if (!input.yes) {
    if (deps.confirm === undefined) {
      throw new KrakenError(ErrorCode.InvalidInput, 'kraken update installs only with --yes when it cannot ask on a terminal (--check or --dry-run only look)');
    }
    if (!(await deps.confirm(`Update ${installed.name} ${installed.version} -> ${latest.version}? [y/N] `))) {
      io.err('kraken: not updated.');
      return ExitCode.Failed;
    }
  }

  io.out(`$ ${command}`);
  const code = await deps.install(plan);
  if (code !== 0) {
    io.err(`kraken: npm exited with ${code} (its output is above): ${installed.name} was not updated to ${latest.version}.`);
    return ExitCode.Failed;
  }
  io.out(`Updated ${installed.name} to ${latest.version}. The running agent is still ${installed.version}: restart it to run the new one.`);
  io.out(
    deps.serviceInstalled()
      ? `  systemctl restart ${SERVICE_NAME}    (apps keep running and the agent takes them over)`
      : '  Stop kraken agent (Ctrl-C or SIGTERM) and start it again: apps keep running and the agent takes them over.',
  );
  return ExitCode.Ok;
}
