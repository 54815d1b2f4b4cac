import type { NodeTransition } from './liveness/liveness.js';
import type { DeploymentRecord, NodeRecord, StoredLogLine } from './store/records.js';

export type OrchestratorEvents = {
  /** After any change of a deployment (status, placement, stats) is stored. */
  deploymentChanged: [deployment: DeploymentRecord];
  /** After a node.info or a liveness transition is stored; `transition` when its state changed. */
  nodeChanged: [node: NodeRecord, transition: NodeTransition | undefined];
  /** Log lines just stored, with their seqs. */
  logLines: [deploymentId: string, lines: StoredLogLine[]];
};

/** How a part of the orchestrator tells the orchestrator's listeners (the API) what it changed. */
export type EmitEvent = <E extends keyof OrchestratorEvents>(event: E, ...args: OrchestratorEvents[E]) => void;
