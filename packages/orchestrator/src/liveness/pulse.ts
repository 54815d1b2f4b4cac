import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Result } from '@kraken/common';
import { err, ok } from '@kraken/common';

/**
 * Pulses: small signed UDP datagrams each agent sends the leader beside its heartbeats over the broker.
 * A heartbeat rides one TCP connection, so on a lossy link TCP's retransmission backoff can stall it
 * for 20 s and more, and AMQP's heartbeat timeout then drops the connection: the node looks gone
 * while it runs its apps. Datagrams are lost one by one instead, so at 30% loss most still arrive,
 * and a node whose pulses arrive is reachable: moving its apps would run them twice.
 *
 * A pulse is `{"v":1,"n":<node id>,"s":<sequence>,"m":<mac>}`: the MAC (HMAC-SHA256) is keyed per
 * node (see pulseKeyFor), so one node's key cannot speak for another, and the sequence (the sender's
 * clock in ms, never going back) makes a replayed datagram worthless.
 */
const PULSE_VERSION = 1;

/** A pulse is well under this; anything longer is not one. */
export const MAX_PULSE_BYTES = 512;

/**
 * How often an agent pulses: two datagrams of ~100 bytes a second. At 30% loss eight in a row go
 * missing once in ~15,000 tries, so the leader's 4 s of grace (Liveness pulseGraceMs) holds; four a
 * second would halve the grace but cost an idle agent measurably more CPU (timer wake-ups).
 */
export const DEFAULT_PULSE_INTERVAL_MS = 500;

const PULSE_KEY_BYTES = 32;

export interface Pulse {
  nodeId: string;
  /** Grows with every pulse of the node, also across its agent's restarts. */
  seq: number;
}

interface SignedPulse extends Pulse {
  mac: string;
}

export function encodePulse(pulse: Pulse, key: Buffer): Buffer {
  return Buffer.from(JSON.stringify({ v: PULSE_VERSION, n: pulse.nodeId, s: pulse.seq, m: macOf(pulse, key) }), 'utf8');
}

/**
 * Reads a datagram as a pulse, whose MAC is then checked with the key of the node it names
 * (verifyPulse). The error says why it is not one, for the leader's log.
 */
export function decodePulse(datagram: Buffer): Result<SignedPulse, string> {
  if (datagram.length > MAX_PULSE_BYTES) return err(`${datagram.length} bytes, more than a pulse's ${MAX_PULSE_BYTES}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(datagram.toString('utf8'));
  } catch {
    return err('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) return err('not a JSON object');
  const { v, n, s, m } = parsed as Record<string, unknown>;
  if (v !== PULSE_VERSION) return err(`version ${JSON.stringify(v)}, expected ${PULSE_VERSION}`);
  if (typeof n !== 'string' || n.length === 0 || n.length > 128) return err('no node id');
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) return err('no sequence number');
  if (typeof m !== 'string') return err('no MAC');
  return ok({ nodeId: n, seq: s, mac: m });
}

/** Whether `pulse` was signed with `key` (compared in constant time). */
export function verifyPulse(pulse: SignedPulse, key: Buffer): boolean {
  const expected = Buffer.from(macOf(pulse, key), 'base64url');
  const presented = Buffer.from(pulse.mac, 'base64url');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** A pulse key as sent in a join answer (base64url); a malformed one is undefined. */
export function pulseKeyFromText(text: string | undefined): Buffer | undefined {
  if (text === undefined || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64url');
  return key.length === PULSE_KEY_BYTES ? key : undefined;
}

function macOf(pulse: Pulse, key: Buffer): string {
  return createHmac('sha256', key).update(`kraken-pulse:${PULSE_VERSION}:${pulse.nodeId}:${pulse.seq}`).digest('base64url');
}

/** One node's pulse key: derived from the cluster's data key, so any leader of the cluster checks the same one. */
export function pulseKeyFor(dataKey: { derive(purpose: string): Buffer }, nodeId: string): Buffer {
  return dataKey.derive(`pulse:${nodeId}`);
}
