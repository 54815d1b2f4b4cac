import { ErrorCode, KrakenError } from '@kraken/common';

/** Why an incoming message was refused; the broker dead-letters it with this reason and counts it. */
export const DecodeFailure = {
  TooLarge: 'too-large',
  NotJson: 'not-json',
  NotEnvelope: 'not-envelope',
  UnsupportedVersion: 'unsupported-version',
  UnknownType: 'unknown-type',
  InvalidBody: 'invalid-body',
} as const;
export type DecodeFailure = (typeof DecodeFailure)[keyof typeof DecodeFailure];

const codes: Readonly<Record<DecodeFailure, ErrorCode>> = {
  [DecodeFailure.TooLarge]: ErrorCode.PayloadTooLarge,
  [DecodeFailure.NotJson]: ErrorCode.DecodeFailed,
  [DecodeFailure.NotEnvelope]: ErrorCode.DecodeFailed,
  [DecodeFailure.UnsupportedVersion]: ErrorCode.UnsupportedVersion,
  [DecodeFailure.UnknownType]: ErrorCode.DecodeFailed,
  [DecodeFailure.InvalidBody]: ErrorCode.DecodeFailed,
};

export interface DecodeErrorOptions {
  /** Path of the offending field, e.g. `body.port`; undefined when the whole input is at fault. */
  field?: string | undefined;
  /** The message's type and id when the envelope got far enough to tell, for dead-letter logs. */
  type?: string | undefined;
  messageId?: string | undefined;
  deploymentId?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

export class DecodeError extends KrakenError {
  override readonly name: string = 'DecodeError';
  readonly reason: DecodeFailure;
  readonly field: string | undefined;

  constructor(reason: DecodeFailure, message: string, options: DecodeErrorOptions = {}) {
    super(codes[reason], message, {
      deploymentId: options.deploymentId,
      details: {
        reason,
        ...(options.field === undefined ? {} : { field: options.field }),
        ...(options.type === undefined ? {} : { type: options.type }),
        ...(options.messageId === undefined ? {} : { messageId: options.messageId }),
        ...options.details,
      },
    });
    this.reason = reason;
    this.field = options.field;
  }
}
