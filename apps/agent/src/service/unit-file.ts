import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';
import { STOP_BOUND_MS } from '../run/stop-bound.js';

/** The unit `kraken service install` writes; `systemctl ... kraken` names it. */
export const SERVICE_NAME = 'kraken';
export const UNIT_PATH = `/etc/systemd/system/${SERVICE_NAME}.service`;
/**
 * Settings too secret for the unit (world-readable, like every unit): the join token. systemd reads
 * this file as root before it starts the agent as its user, so it stays 0600 root.
 */
export const ENV_FILE_PATH = `/etc/${SERVICE_NAME}/agent.env`;

/** What the boot-time agent runs as, and with what. */
export interface ServiceSpec {
  /** Absolute path of the node binary that runs the agent. */
  node: string;
  /** Absolute path of the kraken CLI entry point (dist/cli.js). */
  cli: string;
  /** The user the agent runs as. */
  user: string;
  /** Absolute data dir, given to the agent as KRAKEN_DATA_DIR. */
  dataDir: string;
  /** Extra `kraken agent` arguments (what followed `--`), without secrets. */
  agentArgs: readonly string[];
  /** Environment for the agent that must not be in the unit nor in `ps` (KRAKEN_JOIN_TOKEN). */
  secretEnv: Readonly<Record<string, string>>;
}

/** Login names systemd accepts in User= without surprises (the POSIX portable set), or a numeric uid. */
const USER_NAME = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}|\d{1,10})$/;

function checkServiceSpec(spec: ServiceSpec): void {
  for (const [field, value] of [['node', spec.node], ['cli', spec.cli], ['--data-dir', spec.dataDir]] as const) {
    if (!path.isAbsolute(value)) {
      throw new KrakenError(ErrorCode.InvalidInput, `${field}: systemd needs an absolute path, got ${JSON.stringify(value)}`, { details: { field } });
    }
  }
  checkUserName(spec.user);
}

export function checkUserName(user: string): void {
  if (!USER_NAME.test(user)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `--user: expected a login name (letters, digits, "_", ".", "-"; up to 32, not starting with a digit or "-") or a numeric uid, got ${JSON.stringify(user)}`,
      { details: { field: 'user' } },
    );
  }
}

/** The command the unit (and the cron hint) starts: `<node> <cli> agent <extra args>`. */
export function agentCommand(spec: ServiceSpec): string[] {
  return [spec.node, spec.cli, 'agent', ...spec.agentArgs];
}

export function renderUnit(spec: ServiceSpec): string {
  checkServiceSpec(spec);
  return [
    '# Written by `kraken service install`; `kraken service uninstall` removes it.',
    '[Unit]',
    'Description=Kraken agent',
    'Wants=network-online.target',
    // ordering only (no dependency): with --runtime auto the agent picks Docker only if it answers at start
    'After=network-online.target docker.service rabbitmq-server.service',
    '',
    '[Service]',
    'Type=simple',
    `User=${spec.user}`,
    `Environment=${systemdWord(`KRAKEN_DATA_DIR=${spec.dataDir}`, { quote: 'always' })}`,
    ...(Object.keys(spec.secretEnv).length === 0 ? [] : [`EnvironmentFile=${ENV_FILE_PATH}`]),
    `ExecStart=${agentCommand(spec).map((word) => systemdWord(word, { dollar: true })).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=5s',
    // Stopping the agent must not stop the apps: the process runtime starts them in their own
    // session but inside this unit's control group, which the default KillMode=control-group would
    // kill. The next agent start on the same data dir adopts them (Docker apps live in dockerd's group).
    'KillMode=process',
    // one SIGTERM stops the agent in order within STOP_BOUND_MS (it kills the test processes of
    // deploys in flight itself, which KillMode=process would leave); systemd's SIGKILL comes later
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${String(STOP_BOUND_MS / 1000 + 15)}s`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const C_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/**
 * One word of a unit file setting, per systemd.syntax(7) and systemd.service(5): C escapes for
 * backslashes, quotes and control characters, `%%` for a literal `%` (specifiers), `$$` for a literal
 * `$` in command lines (variable expansion), and double quotes around anything but plain characters
 * (whitespace, `;` the command separator, an empty word).
 */
export function systemdWord(word: string, options: { quote?: 'always' | 'needed'; dollar?: boolean } = {}): string {
  let escaped = word.replace(/[\\"\n\t\r]/g, (c) => C_ESCAPES[c] ?? c);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
  escaped = escaped.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  escaped = escaped.replace(/%/g, '%%');
  if (options.dollar === true) escaped = escaped.replace(/\$/g, '$$$$');
  const plain = /^[A-Za-z0-9_@+=:,./-]+$/.test(word);
  return options.quote === 'always' || !plain ? `"${escaped}"` : escaped;
}

/** The environment file's text (`NAME=value` lines), or undefined when there is nothing secret. */
export function renderEnvFile(spec: ServiceSpec): string | undefined {
  const entries = Object.entries(spec.secretEnv);
  if (entries.length === 0) return undefined;
  for (const [name, value] of entries) {
    // tokens are URL-safe; anything that would need quoting in this file is not one
    if (!/^[A-Za-z0-9._~+/=-]+$/.test(value)) {
      throw new KrakenError(ErrorCode.InvalidInput, `${name}: expected a token of letters, digits and -._~+/=, got a value with other characters`, { details: { field: name } });
    }
  }
  return ['# Written by `kraken service install`: secrets for the agent, readable by root alone.', ...entries.map(([name, value]) => `${name}=${value}`), ''].join('\n');
}
