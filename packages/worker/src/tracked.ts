import type { LogFollower } from '@kraken/docker-deployer';
import type { DeployRequestBody, DeploymentStatus } from '@kraken/messages';
import type { LogBatcher } from './log-batcher.js';
import type { SlotTicket } from './slots.js';

export type Phase = 'queued' | 'deploying' | 'running' | 'destroying';

/** A deployment this node holds, from its deploy request (or its adoption at start) until it is gone. */
export interface Tracked {
  readonly deploymentId: string;
  phase: Phase;
  status: DeploymentStatus;
  commit?: string | undefined;
  port?: number | undefined;
  url?: string | undefined;
  readonly logs: LogBatcher;
  follower?: LogFollower | undefined;
  /** The cursor of the last line read from the app's log: a follow that ended resumes after it. */
  lastCursor?: string | undefined;
  ticket?: SlotTicket | undefined;
  /** Set when a cancel/stop arrived while the deploy was queued or running. */
  cancelled: boolean;
  /** A deploy request that arrived while this deployment was being destroyed: run once the destroy ends. */
  deployAfterDestroy?: DeployRequestBody | undefined;
  /** A newer attempt (a redeploy) that arrived while an older one was deploying: run once it is up. */
  redeployAfterDeploy?: DeployRequestBody | undefined;
  /**
   * The orchestrator's attempt number this node works on, echoed in deploy.status so a late status
   * of an older attempt is recognised. Unknown for a deployment adopted after a restart.
   */
  attempt?: number | undefined;
  statsInFlight: boolean;
}

export function describePhase(phase: Phase): string {
  switch (phase) {
    case 'queued':
      return 'waiting for a deploy slot';
    case 'deploying':
      return 'being deployed';
    case 'running':
      return 'running';
    case 'destroying':
      return 'being destroyed';
  }
}
