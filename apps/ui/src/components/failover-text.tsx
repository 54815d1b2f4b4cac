import { FailoverDocument } from '../api/generated.js';
import { useQuery } from '../api/use-query.js';
import type { Deployment } from '../api/types.js';
import { failoverSummary } from '../format.js';
import { useNow } from './use-now.js';

const ASK_EVERY_MS = 5000;

/**
 * Where a running deployment's failover build stands. The leader learns it from heartbeats and
 * no deploymentChanged event carries it, so it is asked for again every few seconds.
 */
export function FailoverText({ deployment }: { deployment: Pick<Deployment, 'id' | 'status' | 'node' | 'commit'> }) {
  const tick = Math.floor(useNow(ASK_EVERY_MS));
  const running = deployment.status === 'RUNNING';
  const { data, error } = useQuery(
    FailoverDocument,
    { deploymentId: deployment.id },
    { select: ({ getDeployment }) => getDeployment.failover ?? null, deps: [tick, deployment.node, deployment.commit], skip: !running },
  );
  if (!running) return <span data-testid="failover">—</span>;
  if (data === undefined) return <span data-testid="failover">{error === undefined ? '…' : `unknown (${error.message})`}</span>;
  return <span data-testid="failover">{failoverSummary(data)}</span>;
}
