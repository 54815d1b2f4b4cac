import { ErrorCode, KrakenError, err, ok } from '@kraken/common';
import type { Result } from '@kraken/common';
import { DecodeError, DecodeFailure } from './decode-error.js';
import { PROTOCOL_VERSION, envelopeSchema } from './envelope.js';
import { parseOptions, sample, summarizeIssues, truncate } from './issues.js';
import { MessageType, isMessageType } from './message-type.js';
import { deploymentIdOf, validateMessage } from './messages.js';
import type { Message } from './messages.js';

/** Large enough for a full log batch, small enough that one message cannot hog a consumer. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export interface CodecOptions {
  /**
   * Largest encoded message accepted, in bytes. Checked before any parsing on decode.
   * @default DEFAULT_MAX_MESSAGE_BYTES
   */
  maxBytes?: number;
}

function maxBytesOf(options: CodecOptions | undefined): number {
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new KrakenError(ErrorCode.InvalidInput, `maxBytes: expected a positive integer, got ${sample(maxBytes)}`, {
      details: { field: 'maxBytes' },
    });
  }
  return maxBytes;
}

/**
 * Validates and serialises a message to UTF-8 JSON. What is written is the validated form: unknown
 * fields dropped, defaults filled, keys in schema order, so encoding a decoded message is stable.
 * Throws KrakenError InvalidInput (naming the field) or PayloadTooLarge.
 */
export function encode(message: Message, options?: CodecOptions): Buffer {
  const maxBytes = maxBytesOf(options);
  const type = typeOfCandidate(message);
  if (!isMessageType(type)) {
    throw new KrakenError(ErrorCode.InvalidInput, `type: unknown message type, got ${sample(type)}`, {
      details: { field: 'type' },
    });
  }
  const validation = validateMessage(type, message);
  if (!validation.ok) {
    throw new KrakenError(ErrorCode.InvalidInput, `cannot encode ${type} message: ${validation.message}`, {
      deploymentId: deploymentIdOf(message.body),
      details: { type, field: validation.field },
    });
  }
  const bytes = Buffer.from(JSON.stringify(validation.message), 'utf8');
  if (bytes.length > maxBytes) {
    throw new KrakenError(
      ErrorCode.PayloadTooLarge,
      `cannot encode ${type} message: ${bytes.length} bytes is over the ${maxBytes}-byte limit`,
      { deploymentId: deploymentIdOf(validation.message.body), details: { type, bytes: bytes.length, maxBytes } },
    );
  }
  return bytes;
}

/** Untyped callers may pass anything; read `type` without trusting the shape. */
function typeOfCandidate(candidate: unknown): unknown {
  return typeof candidate === 'object' && candidate !== null && 'type' in candidate ? candidate.type : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and validates one message. Never throws for any input: every failure comes back as a
 * DecodeError whose `reason` says which stage refused it (the only throw is for invalid options,
 * a programming error). Checks run cheapest first, and the size limit before anything is parsed.
 */
export function decode(input: Buffer | Uint8Array | string, options?: CodecOptions): Result<Message, DecodeError> {
  const maxBytes = maxBytesOf(options);
  const text = toText(input, maxBytes);
  if (text instanceof DecodeError) return err(text);

  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return err(new DecodeError(DecodeFailure.NotJson, `not valid JSON: ${truncate(detail, 120)}`));
  }
  return fromDocument(document);
}

function toText(input: unknown, maxBytes: number): string | DecodeError {
  if (typeof input === 'string') {
    // UTF-16 length bounds the UTF-8 size: n units take n..3n bytes; count exactly only in between.
    const bytes = input.length > maxBytes ? input.length : input.length * 3 <= maxBytes ? 0 : Buffer.byteLength(input, 'utf8');
    return bytes > maxBytes ? tooLarge(bytes, maxBytes, input.length > maxBytes) : input;
  }
  if (!(input instanceof Uint8Array)) {
    return new DecodeError(DecodeFailure.NotJson, `expected a Buffer, Uint8Array or string, got ${sample(input)}`);
  }
  if (input.byteLength > maxBytes) return tooLarge(input.byteLength, maxBytes, false);
  try {
    return utf8.decode(input);
  } catch {
    return new DecodeError(DecodeFailure.NotJson, 'input is not valid UTF-8');
  }
}

function tooLarge(bytes: number, maxBytes: number, atLeast: boolean): DecodeError {
  return new DecodeError(
    DecodeFailure.TooLarge,
    `message is ${atLeast ? 'at least ' : ''}${bytes} bytes, over the ${maxBytes}-byte limit`,
    { details: { bytes, maxBytes } },
  );
}

function fromDocument(document: unknown): Result<Message, DecodeError> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return err(new DecodeError(DecodeFailure.NotEnvelope, `expected a JSON object envelope, got ${sample(document)}`));
  }
  const version = checkVersion(document);
  if (version !== undefined) return err(version);

  const envelope = envelopeSchema.safeParse(document, parseOptions);
  if (!envelope.success) {
    const { field, message } = summarizeIssues(envelope.error.issues);
    return err(new DecodeError(DecodeFailure.NotEnvelope, `invalid envelope: ${message}`, { field }));
  }
  const { type, id } = envelope.data;
  if (!isMessageType(type)) {
    const known = Object.values(MessageType).join(', ');
    return err(
      new DecodeError(DecodeFailure.UnknownType, `type: unknown message type ${sample(type)} (known: ${known})`, {
        field: 'type',
        messageId: id,
      }),
    );
  }
  const validation = validateMessage(type, document);
  if (!validation.ok) {
    return err(
      new DecodeError(DecodeFailure.InvalidBody, `invalid ${type} body: ${validation.message}`, {
        field: validation.field,
        type,
        messageId: id,
        deploymentId: deploymentIdOf(envelope.data.body),
      }),
    );
  }
  return ok(validation.message);
}

/**
 * The version is checked before the rest of the envelope: a future version may have changed the
 * envelope itself, and "unsupported version" is the useful thing to tell its sender.
 */
function checkVersion(document: object): DecodeError | undefined {
  const v: unknown = 'v' in document ? document.v : undefined;
  if (v === undefined) {
    return new DecodeError(DecodeFailure.NotEnvelope, `invalid envelope: v: missing (expected protocol version ${PROTOCOL_VERSION})`, {
      field: 'v',
    });
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    return new DecodeError(
      DecodeFailure.NotEnvelope,
      `invalid envelope: v: expected integer protocol version ${PROTOCOL_VERSION}, got ${sample(v)}`,
      { field: 'v' },
    );
  }
  if (v !== PROTOCOL_VERSION) {
    return new DecodeError(
      DecodeFailure.UnsupportedVersion,
      `v: protocol version ${v} is not supported (this node speaks version ${PROTOCOL_VERSION})`,
      { field: 'v', details: { version: v, supported: PROTOCOL_VERSION } },
    );
  }
  return undefined;
}
