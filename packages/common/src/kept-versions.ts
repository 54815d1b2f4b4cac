/**
 * How many successful versions of a deployment its node keeps for a rollback without a build (the
 * running one and two before it). The runtimes keep them; the orchestrator offers the same ones.
 */
export const KEPT_VERSIONS = 3;
