import { ErrorCode, KrakenError } from '@kraken/common';

/** The source of a deployment adopted from a node's report: the report does not say it. */
export const ADOPTED_SOURCE = 'unknown:adopted';

/** Whether the deployment was adopted from a node's report (this orchestrator lost its record): nothing can build it. */
export function isAdopted(deployment: { srcUrl: string }): boolean {
  return deployment.srcUrl === ADOPTED_SOURCE;
}

/** Why an adopted deployment cannot be built or run anywhere else, in words for its status and errors. */
export function adoptedCannot(what: string): string {
  return `cannot ${what}: it was adopted from a node's report after this cluster's record of it was lost, and its source is unknown; deploy its repository again (and cancel this one)`;
}

/** Refuses (InvalidInput) what needs the deployment's source, for one adopted from a node's report. */
export function assertSourceKnown(deployment: { id: string; srcUrl: string }, what: string): void {
  if (isAdopted(deployment)) throw new KrakenError(ErrorCode.InvalidInput, `deployment ${deployment.id} ${adoptedCannot(what)}`, { deploymentId: deployment.id });
}
