import path from 'node:path';
import type { ServiceSpec } from './unit-file.js';
import { agentCommand } from './unit-file.js';

/** A word for a POSIX shell: single quotes unless it only holds characters the shell leaves alone. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellLine(words: readonly string[]): string {
  return words.map(shellWord).join(' ');
}

/**
 * A crontab line that starts the agent at boot where there is no systemd. cron runs it with /bin/sh
 * and treats an unescaped `%` as a newline, so both quotings apply. cron does not restart it.
 */
export function cronLine(spec: ServiceSpec): string {
  const log = path.join(spec.dataDir, 'agent.log');
  // secrets as environment (a crontab is private to its user), not as arguments everyone sees in ps
  const secrets = Object.entries(spec.secretEnv).map(([name, value]) => `${name}=${shellWord(value)} `).join('');
  const command = `mkdir -p ${shellWord(spec.dataDir)} && KRAKEN_DATA_DIR=${shellWord(spec.dataDir)} ${secrets}${shellLine(agentCommand(spec))} >>${shellWord(log)} 2>&1`;
  return `@reboot ${command.replace(/%/g, '\\%')}`;
}
