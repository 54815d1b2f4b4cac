import { z } from 'zod';
import type { Result } from '@kraken/common';
import { err, ok } from '@kraken/common';
import { PROTOCOL_VERSION } from './envelope.js';
import { idSchema, intAtLeast, text } from './fields.js';
import type { IssueSummary } from './issues.js';
import { parseOptions, summarizeIssues } from './issues.js';

// POST /join is HTTP, not a broker message, but both ends (the orchestrator's API and a joining
// agent) speak it, so its request and answer are defined here once.

/**
 * The protocol major version a node states: an integer (`1`), or a version string whose first
 * number is the major (`"1"`, `"1.2"`).
 */
export function protocolMajor(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{1,6})(?:\.\d{1,6}){0,2}$/.exec(value.trim());
  const major = match?.[1] === undefined ? undefined : Number(match[1]);
  return major !== undefined && major >= 1 ? major : undefined;
}

const PROTOCOL_RULE = `expected the node's protocol version, a positive integer such as ${String(PROTOCOL_VERSION)} or a version string such as "${String(PROTOCOL_VERSION)}.0"`;

/** What a node sends to join: the cluster's join token, its id and protocol version. */
const joinRequestSchema = z.object({
  token: text(1024, { nonEmpty: true }),
  nodeId: idSchema,
  /** Read as its major version. */
  protocolVersion: z.unknown().transform((value, context) => {
    const major = protocolMajor(value);
    if (major !== undefined) return major;
    context.addIssue({ code: 'custom', message: PROTOCOL_RULE, input: value });
    return z.NEVER;
  }),
  /** This node can run a RabbitMQ node and may lead: it asks to join the cluster's RabbitMQ cluster. */
  brokerNode: z.boolean({ error: 'expected true or false' }).optional(),
  /**
   * The addresses and names this node answers the API on: the leader issues it a certificate from
   * the cluster CA for them (`tls` in the answer). Absent: a node that serves no TLS.
   */
  certificateNames: z.array(text(253, { nonEmpty: true })).max(64, { error: 'expected at most 64 names' }).optional(),
});
/** The request as a node writes it. */
export type JoinRequest = z.input<typeof joinRequestSchema> & { protocolVersion: number | string };
/** The request as the orchestrator reads it: `protocolVersion` is the major version. */
export type ParsedJoinRequest = z.output<typeof joinRequestSchema>;

/** Checks a join request; the error names the first wrong field ("nodeId: expected an id ..."). */
export function parseJoinRequest(candidate: unknown): Result<ParsedJoinRequest, IssueSummary> {
  const result = joinRequestSchema.safeParse(candidate, parseOptions);
  return result.success ? ok(result.data) : err(summarizeIssues(result.error.issues, 'join request'));
}

/** What a node needs to make its RabbitMQ node a member of the cluster's RabbitMQ cluster. */
const brokerClusterGrantSchema = z.object({
  /** The Erlang cookie every member shares. */
  cookie: text(1024, { nonEmpty: true }),
  /** The cluster's admin password (a standby runs the orchestrator one day). */
  adminPassword: text(1024, { nonEmpty: true }),
  /** A running member to join, e.g. `kraken-n1@10.0.0.5`. */
  seedNode: text(300, { nonEmpty: true }),
  /**
   * The cluster's data key (base64url), which seals the secrets in the store a standby copies: it
   * opens them when it takes over. Only nodes that may lead get it. Missing from a leader that
   * predates sealing.
   */
  dataKey: text(100, { nonEmpty: true }).optional(),
});
export type BrokerClusterGrant = z.infer<typeof brokerClusterGrantSchema>;

/** The cluster's trust, for a node that asked for a certificate: PEM texts. */
const joinTlsSchema = z.object({
  /** The cluster CA's certificate: the one trust anchor for every connection to the cluster. */
  caCert: text(16_384, { nonEmpty: true }),
  /** This node's certificate, issued by that CA for the names it asked for. */
  cert: text(16_384, { nonEmpty: true }),
  /** Its private key (the answer goes over TLS to the node that proved it holds the join token). */
  key: text(16_384, { nonEmpty: true }),
});

/** What a node that joined gets back. */
const joinAnswerSchema = z.object({
  clusterId: idSchema,
  /** The broker URL, with this node's credentials. */
  brokerUrl: text(2048, { nonEmpty: true }),
  /** Set when the node asked to run a RabbitMQ node of its own (`brokerNode: true`) and may. */
  brokerCluster: brokerClusterGrantSchema.optional(),
  /** Every node of the broker (`host:port`), reachable with brokerUrl's credentials. */
  brokerEndpoints: z.array(text(300, { nonEmpty: true })).optional(),
  orchestratorNodeId: idSchema,
  epoch: intAtLeast(0),
  protocolVersion: intAtLeast(1),
  /** This node's pulse key (32 bytes, base64url): it signs the datagrams that tell the leader it is reachable. */
  pulseKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, { error: 'expected 32 bytes in base64url (43 characters)' })
    .optional(),
  /** Set when the node sent certificateNames and this leader serves TLS. */
  tls: joinTlsSchema.optional(),
});
export type JoinAnswer = z.infer<typeof joinAnswerSchema>;

/** Checks an orchestrator's join answer; the error names the first wrong field ("brokerUrl: missing ..."). */
export function parseJoinAnswer(candidate: unknown): Result<JoinAnswer, IssueSummary> {
  const result = joinAnswerSchema.safeParse(candidate, parseOptions);
  return result.success ? ok(result.data) : err(summarizeIssues(result.error.issues, 'answer'));
}
