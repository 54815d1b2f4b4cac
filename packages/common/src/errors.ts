/**
 * One error model for every Kraken package: a stable `code` that callers and API clients can
 * branch on, the subject's id when there is one, and the original `cause`.
 */
export const ErrorCode = {
  InvalidInput: 'INVALID_INPUT',
  InvalidConfig: 'INVALID_CONFIG',
  InvalidManifest: 'INVALID_MANIFEST',
  DecodeFailed: 'DECODE_FAILED',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedVersion: 'UNSUPPORTED_VERSION',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  Unauthorized: 'UNAUTHORIZED',
  Unavailable: 'UNAVAILABLE',
  /**
   * A node's container engine did not answer (its socket refused or gone): the node itself may be
   * fine, and what was asked of it can run on another node.
   */
  EngineDown: 'ENGINE_DOWN',
  NoLeader: 'NO_LEADER',
  Timeout: 'TIMEOUT',
  Closed: 'CLOSED',
  /** An app kept ending after every restart and was stopped. */
  CrashLoop: 'CRASH_LOOP',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface KrakenErrorOptions {
  deploymentId?: string | undefined;
  nodeId?: string | undefined;
  /** Structured facts for logs and API errors (field names, limits, allowed values). */
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

export class KrakenError extends Error {
  override readonly name: string = 'KrakenError';
  readonly code: ErrorCode;
  readonly deploymentId: string | undefined;
  readonly nodeId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: KrakenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.deploymentId = options.deploymentId;
    this.nodeId = options.nodeId;
    this.details = options.details;
  }

  /** A plain object safe to log or send over the wire (no stack, cause flattened to its message). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.deploymentId === undefined ? {} : { deploymentId: this.deploymentId }),
      ...(this.nodeId === undefined ? {} : { nodeId: this.nodeId }),
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.cause === undefined ? {} : { cause: describeCause(this.cause) }),
    };
  }
}

export function isKrakenError(value: unknown): value is KrakenError {
  return value instanceof KrakenError;
}

/** Normalises anything thrown into a KrakenError, keeping the original as `cause`. */
export function toKrakenError(value: unknown, fallbackCode: ErrorCode = ErrorCode.Internal): KrakenError {
  if (value instanceof KrakenError) return value;
  if (value instanceof Error) return new KrakenError(fallbackCode, value.message, { cause: value });
  return new KrakenError(fallbackCode, typeof value === 'string' ? value : `non-error thrown: ${safeStringify(value)}`, {
    cause: value,
  });
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : safeStringify(cause);
}

function safeStringify(value: unknown): string {
  try {
    // JSON.stringify gives undefined for undefined and functions, whatever its declared type says
    const json = JSON.stringify(value) as string | undefined;
    return json ?? String(value);
  } catch {
    return String(value);
  }
}
