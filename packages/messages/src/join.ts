import { z } from 'zod';
import type { Result } from '@kraken/common';
import { err, ok } from '@kraken/common';
import { idSchema, intAtLeast, text } from './fields.js';
import type { IssueSummary } from './issues.js';
import { parseOptions, summarizeIssues } from './issues.js';

// POST /join is HTTP, not a broker message, but both ends (the orchestrator's API and a joining
// agent) speak it, so its answer is defined here once.

/** What a node needs to make its RabbitMQ node a member of the cluster's RabbitMQ cluster. */
export const brokerClusterGrantSchema = z.object({
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

/** What a node that joined gets back. */
export const joinAnswerSchema = z.object({
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
});
export type JoinAnswer = z.infer<typeof joinAnswerSchema>;

/** Checks an orchestrator's join answer; the error names the first wrong field ("brokerUrl: missing ..."). */
export function parseJoinAnswer(candidate: unknown): Result<JoinAnswer, IssueSummary> {
  const result = joinAnswerSchema.safeParse(candidate, parseOptions);
  return result.success ? ok(result.data) : err(summarizeIssues(result.error.issues, 'answer'));
}
