import { sameCommit } from './same-commit.js';

/**
 * The one "branch moved, redeploy" decision, shared by the pollRedeploy mutation and the branch
 * watcher: the head differs from what was deployed, by sameCommit's rule (an abbreviated sha and
 * any case match the full one). With nothing deployed to compare, there is nothing to catch up
 * with: the head is being built right now.
 */
export function branchMoved(deployed: string | null | undefined, head: string): boolean {
  return deployed !== null && deployed !== undefined && !sameCommit(deployed, head);
}
