// The light entry of @kraken/orchestrator (`@kraken/orchestrator/follow`): what an agent that does
// not run the control plane needs to follow the one that does (its beacon and lease, where the
// cluster's secrets live). Nothing here loads Apollo, GraphQL or SQLite, which the main entry does:
// a worker on a small machine imports this one only. Every export is listed by name.
export { LeaderWatch } from './leadership/leader-watch.js';
export type { KnownLeader, LeaderWatchOptions, LeaderWatchEvents } from './leadership/leader-watch.js';
export { LeaderLease, LEADERSHIP_QUEUE } from './leadership/leader-lease.js';
export type { LeaderLeaseOptions, LeaderLeaseEvents } from './leadership/leader-lease.js';
export { LEADER_TOPIC } from './leadership/leader-beacon.js';
export { loadOrCreateSecrets, SECRETS_FILE } from './secrets.js';
export type { ClusterSecrets, LoadedSecrets } from './secrets.js';
