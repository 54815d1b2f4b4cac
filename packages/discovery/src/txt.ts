import type { Result } from '@kraken/common';
import { ErrorCode, KrakenError, err, ok } from '@kraken/common';
import { PROTOCOL_VERSION } from '@kraken/messages';

/** Roles an agent announces. Decoding accepts other tokens too, so a newer agent's role is still reported. */
export const DiscoveryRole = {
  Orchestrator: 'orchestrator',
  Standby: 'standby',
  Worker: 'worker',
} as const;
export type DiscoveryRole = (typeof DiscoveryRole)[keyof typeof DiscoveryRole];

/** The DNS-SD TXT record of a `_kraken._tcp` service, decoded. */
export interface KrakenTxt {
  clusterId: string;
  role: string;
  /** 0 = leader, 1 = standby, 2+ = never orchestrates. */
  priority: number;
  /** Port of the orchestrator's HTTP API on the announcing host. */
  apiPort: number;
  /** `MAJOR` or `MAJOR.MINOR`; only the major decides compatibility. */
  protocolVersion: string;
}

export interface KrakenTxtInput {
  clusterId: string;
  role: DiscoveryRole;
  priority: number;
  apiPort: number;
  /** @default PROTOCOL_VERSION of @kraken/messages */
  protocolVersion?: string | number | undefined;
}

/**
 * TXT keys on the wire. RFC 6763 §6.4 asks for keys of at most nine characters, and every key
 * costs bytes in each announcement.
 */
export const txtKeys = {
  clusterId: 'cluster',
  role: 'role',
  priority: 'priority',
  apiPort: 'apiport',
  protocolVersion: 'protocol',
} as const satisfies Record<keyof KrakenTxt, string>;

export const clusterIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const rolePattern = /^[a-z][a-z0-9-]{0,31}$/;
const protocolPattern = /^\d{1,6}(\.\d{1,6}){0,2}$/;
const maxPriority = 100;

type Check = (value: string) => string | undefined;

const checks: Record<keyof KrakenTxt, Check> = {
  clusterId: (value) =>
    clusterIdPattern.test(value) ? undefined : 'expected 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  role: (value) => (rolePattern.test(value) ? undefined : 'expected a lower-case word such as orchestrator, standby or worker'),
  priority: (value) =>
    /^\d{1,3}$/.test(value) && Number(value) <= maxPriority ? undefined : `expected an integer from 0 to ${maxPriority}`,
  apiPort: (value) =>
    /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65_535 ? undefined : 'expected a port from 1 to 65535',
  protocolVersion: (value) => (protocolPattern.test(value) ? undefined : 'expected MAJOR or MAJOR.MINOR, such as 1 or 1.2'),
};

/** The TXT key/value pairs to announce; throws a KrakenError naming the field when a value is not allowed. */
export function encodeTxt(input: KrakenTxtInput): Record<string, string> {
  const knownRoles: readonly string[] = Object.values(DiscoveryRole);
  if (!knownRoles.includes(input.role)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `txt.role: ${JSON.stringify(input.role)} is not one of ${knownRoles.join(', ')}`,
      { details: { field: 'txt.role' } },
    );
  }
  const values: KrakenTxt = {
    clusterId: input.clusterId,
    role: input.role,
    priority: input.priority,
    apiPort: input.apiPort,
    protocolVersion: String(input.protocolVersion ?? PROTOCOL_VERSION),
  };
  const record: Record<string, string> = {};
  for (const field of Object.keys(txtKeys) as (keyof KrakenTxt)[]) {
    const value = String(values[field]);
    const problem = checks[field](value);
    if (problem !== undefined) {
      throw new KrakenError(ErrorCode.InvalidInput, `txt.${field}: ${JSON.stringify(values[field])}: ${problem}`, {
        details: { field: `txt.${field}` },
      });
    }
    record[txtKeys[field]] = value;
  }
  return record;
}

/**
 * A received TXT record, checked field by field: anything on the LAN can announce `_kraken._tcp`,
 * so a malformed record is an error result (logged and skipped), never a crash.
 */
export function decodeTxt(raw: Readonly<Record<string, unknown>> | undefined): Result<KrakenTxt, KrakenError> {
  const decoded: Partial<Record<keyof KrakenTxt, string>> = {};
  for (const field of Object.keys(txtKeys) as (keyof KrakenTxt)[]) {
    const value = raw?.[txtKeys[field]];
    if (typeof value !== 'string') {
      return err(
        new KrakenError(ErrorCode.DecodeFailed, `TXT ${txtKeys[field]}: missing`, { details: { field: txtKeys[field] } }),
      );
    }
    const problem = checks[field](value);
    if (problem !== undefined) {
      return err(
        new KrakenError(ErrorCode.DecodeFailed, `TXT ${txtKeys[field]}: ${JSON.stringify(value.slice(0, 80))}: ${problem}`, {
          details: { field: txtKeys[field] },
        }),
      );
    }
    decoded[field] = value;
  }
  const fields = decoded as Record<keyof KrakenTxt, string>;
  return ok({
    clusterId: fields.clusterId,
    role: fields.role,
    priority: Number(fields.priority),
    apiPort: Number(fields.apiPort),
    protocolVersion: fields.protocolVersion,
  });
}

/** The major of `MAJOR[.MINOR[.PATCH]]`, or undefined when the text is not a version. */
export function protocolMajor(version: string): number | undefined {
  return protocolPattern.test(version) ? Number(version.split('.')[0]) : undefined;
}

/** Whether a peer speaking `version` can talk to this node; an unknown version counts as compatible (the join handshake decides). */
export function isCompatibleProtocol(version: string | undefined, local: number = PROTOCOL_VERSION): boolean {
  if (version === undefined) return true;
  return protocolMajor(version) === local;
}
