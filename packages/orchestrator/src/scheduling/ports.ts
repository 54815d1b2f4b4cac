import { ErrorCode, KrakenError } from '@kraken/common';

export interface PortRange {
  min: number;
  max: number;
}

/** Host ports Kraken hands out, away from the usual service and ephemeral ranges. */
export const DEFAULT_PORT_RANGE: PortRange = { min: 20000, max: 29999 };

/**
 * The lowest port in `range` that no deployment uses, on any node: ports are allocated
 * cluster-wide so that a deployment moved to another node keeps its port free there too.
 */
export function allocatePort(used: Iterable<number>, range: PortRange = DEFAULT_PORT_RANGE): number {
  if (
    !Number.isInteger(range.min) ||
    !Number.isInteger(range.max) ||
    range.min < 1 ||
    range.max > 65535 ||
    range.min > range.max
  ) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `port range ${range.min}-${range.max} is invalid: expected integers with 1 <= min <= max <= 65535`,
    );
  }
  const taken = new Set(used);
  for (let port = range.min; port <= range.max; port++) {
    if (!taken.has(port)) return port;
  }
  throw new KrakenError(
    ErrorCode.Unavailable,
    `no free host port: all ${range.max - range.min + 1} ports of ${range.min}-${range.max} are used by deployments`,
  );
}
