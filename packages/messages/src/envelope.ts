import { z } from 'zod';
import { idSchema, intAtLeast, isoTimeSchema } from './fields.js';

/** The envelope `v`. A peer speaking another version is refused, never half-understood. */
export const PROTOCOL_VERSION = 1;

/**
 * What every message carries around its body. `type` is only checked to be a string here, so that
 * a well-formed envelope of a type this node does not know is reported as such (`unknown-type`)
 * rather than as a broken envelope. Unknown extra fields are stripped, for forward compatibility.
 */
export const envelopeSchema = z.object({
  v: z.literal(PROTOCOL_VERSION, { error: `expected protocol version ${PROTOCOL_VERSION}` }),
  type: z.string({ error: 'expected a message type string' }).min(1, { error: 'expected a message type string' }),
  /** Unique per message: consumers deduplicate redeliveries by it. */
  id: z.uuid({ error: 'expected a UUID' }),
  at: isoTimeSchema,
  /** The sending node's id. */
  from: idSchema,
  /** The leader term the sender acts in; a worker ignores commands from an older epoch. */
  epoch: intAtLeast(0),
  body: z.unknown(),
});
export type Envelope = z.infer<typeof envelopeSchema>;
