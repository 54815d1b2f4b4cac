import { randomUUID } from 'node:crypto';
import { ErrorCode, KrakenError } from '@kraken/common';
import { z } from 'zod';
import {
  deployCancelBodySchema,
  deployLogBodySchema,
  deployRequestBodySchema,
  deployStatsBodySchema,
  deployStatusBodySchema,
  deployStopBodySchema,
  deployLifecycleBodySchema,
  deployPrepareBodySchema,
  nodeInfoBodySchema,
  stateChangeBodySchema,
  leaseTickBodySchema,
  leaderElectedBodySchema,
  leaderInfoBodySchema,
  ingressRoutesBodySchema,
} from './bodies.js';
import { PROTOCOL_VERSION, envelopeSchema } from './envelope.js';
import { ID_PATTERN } from './fields.js';
import { parseOptions, summarizeIssues } from './issues.js';
import { MessageType, isMessageType } from './message-type.js';

function messageOf<const T extends MessageType, B extends z.ZodType>(type: T, body: B) {
  return envelopeSchema.extend({ type: z.literal(type), body });
}

/** The full message schema (envelope + typed body) for each type. */
export const messageSchemas = {
  [MessageType.NodeInfo]: messageOf(MessageType.NodeInfo, nodeInfoBodySchema),
  [MessageType.DeployRequest]: messageOf(MessageType.DeployRequest, deployRequestBodySchema),
  [MessageType.DeployCancel]: messageOf(MessageType.DeployCancel, deployCancelBodySchema),
  [MessageType.DeployStop]: messageOf(MessageType.DeployStop, deployStopBodySchema),
  [MessageType.DeployLifecycle]: messageOf(MessageType.DeployLifecycle, deployLifecycleBodySchema),
  [MessageType.DeployPrepare]: messageOf(MessageType.DeployPrepare, deployPrepareBodySchema),
  [MessageType.DeployStatus]: messageOf(MessageType.DeployStatus, deployStatusBodySchema),
  [MessageType.DeployStats]: messageOf(MessageType.DeployStats, deployStatsBodySchema),
  [MessageType.DeployLog]: messageOf(MessageType.DeployLog, deployLogBodySchema),
  [MessageType.StateChange]: messageOf(MessageType.StateChange, stateChangeBodySchema),
  [MessageType.LeaseTick]: messageOf(MessageType.LeaseTick, leaseTickBodySchema),
  [MessageType.LeaderElected]: messageOf(MessageType.LeaderElected, leaderElectedBodySchema),
  [MessageType.LeaderInfo]: messageOf(MessageType.LeaderInfo, leaderInfoBodySchema),
  [MessageType.IngressRoutes]: messageOf(MessageType.IngressRoutes, ingressRoutesBodySchema),
} as const satisfies Record<MessageType, z.ZodType>;

export const messageSchema = z.discriminatedUnion('type', [
  messageSchemas[MessageType.NodeInfo],
  messageSchemas[MessageType.DeployRequest],
  messageSchemas[MessageType.DeployCancel],
  messageSchemas[MessageType.DeployStop],
  messageSchemas[MessageType.DeployLifecycle],
  messageSchemas[MessageType.DeployPrepare],
  messageSchemas[MessageType.DeployStatus],
  messageSchemas[MessageType.DeployStats],
  messageSchemas[MessageType.DeployLog],
  messageSchemas[MessageType.StateChange],
  messageSchemas[MessageType.LeaseTick],
  messageSchemas[MessageType.LeaderElected],
  messageSchemas[MessageType.LeaderInfo],
  messageSchemas[MessageType.IngressRoutes],
]);

/** A validated message, as `decode` returns it. */
export type Message = z.infer<typeof messageSchema>;
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;
export type BodyOf<T extends MessageType> = MessageOf<T>['body'];
/** What a sender may pass: like BodyOf, but fields with defaults (`attempt`) may be left out. */
export type BodyInputOf<T extends MessageType> = Extract<z.input<typeof messageSchema>, { type: T }>['body'];

export interface MessageMeta {
  /** The sending node's id. */
  from: string;
  /** @default 0 */
  epoch?: number;
  /** @default a new random UUID */
  id?: string;
  /** @default now */
  at?: Date | string;
}

/** Result of validating a whole message against its type's schema; shared by createMessage and encode. */
export type Validation<T extends MessageType> =
  | { ok: true; message: MessageOf<T> }
  | { ok: false; field: string | undefined; message: string };

export function validateMessage<T extends MessageType>(type: T, candidate: unknown): Validation<T> {
  const schema: z.ZodType = messageSchemas[type];
  const result = schema.safeParse(candidate, parseOptions);
  if (result.success) return { ok: true, message: result.data as MessageOf<T> };
  return { ok: false, ...summarizeIssues(result.error.issues) };
}

/** Result of validating a message body on its own: the field is named within the body ("srcUrl"). */
export type BodyValidation<T extends MessageType> =
  | { ok: true; body: BodyOf<T> }
  | { ok: false; field: string | undefined; message: string };

/**
 * Checks `candidate` against the body schema of `type`, the same schema a receiver checks: for an
 * input (an API request) that will become such a message, so it is refused before anything is stored.
 */
export function validateBody<T extends MessageType>(type: T, candidate: unknown): BodyValidation<T> {
  const schema: z.ZodType = messageSchemas[type].shape.body;
  const result = schema.safeParse(candidate, parseOptions);
  if (result.success) return { ok: true, body: result.data as BodyOf<T> };
  return { ok: false, ...summarizeIssues(result.error.issues, 'body') };
}

/**
 * Builds a valid message, filling `v`, `id`, `at` and `epoch`. Throws KrakenError(InvalidInput)
 * naming the field when the body or meta is invalid, so a bad message never reaches the wire.
 */
export function createMessage<T extends MessageType>(type: T, body: BodyInputOf<T>, meta: MessageMeta): MessageOf<T> {
  if (!isMessageType(type)) {
    throw new KrakenError(ErrorCode.InvalidInput, `unknown message type ${JSON.stringify(type)}`, {
      details: { field: 'type' },
    });
  }
  const validation = validateMessage(type, {
    v: PROTOCOL_VERSION,
    type,
    id: meta.id ?? randomUUID(),
    at: toIsoTime(meta.at ?? new Date()),
    from: meta.from,
    epoch: meta.epoch ?? 0,
    body,
  });
  if (validation.ok) return validation.message;
  throw new KrakenError(ErrorCode.InvalidInput, `invalid ${type} message: ${validation.message}`, {
    deploymentId: deploymentIdOf(body),
    details: { type, field: validation.field },
  });
}

function toIsoTime(at: Date | string): string {
  if (typeof at === 'string') return at;
  if (Number.isNaN(at.getTime())) {
    throw new KrakenError(ErrorCode.InvalidInput, 'at: expected a valid Date, got Invalid Date', { details: { field: 'at' } });
  }
  return at.toISOString();
}

/** The subject's id for error reports; only a valid one, since an invalid id may be anything (huge, newlines). */
export function deploymentIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('deploymentId' in body)) return undefined;
  const id = body.deploymentId;
  return typeof id === 'string' && ID_PATTERN.test(id) ? id : undefined;
}
