// The light entry of @kraken/orchestrator (`@kraken/orchestrator/follow`): what an agent that does
// not run the control plane needs to follow the one that does (its beacon and lease, where the
// cluster's secrets and store live, the topic of the ingress routes, the pulses it sends the leader). Nothing here loads Apollo, GraphQL or SQLite, which the main entry does:
// a worker on a small machine imports this one only. Every export is listed by name.
export { LeaderWatch } from './leadership/leader-watch.js';
export type { KnownLeader } from './leadership/leader-watch.js';
export { LeaderLease } from './leadership/leader-lease.js';
export { LEADER_TOPIC } from './leadership/leader-beacon.js';
export { SECRETS_FILE } from './secrets.js';
export { STORE_FILE } from './store/store-file.js';
export { PulseSender } from './liveness/pulse-sender.js';
export type { PulseSenderOptions, PulseTarget } from './liveness/pulse-sender.js';
export { pulseKeyFromText } from './liveness/pulse.js';
export { ROUTES_TOPIC } from './routes/route-publisher.js';
