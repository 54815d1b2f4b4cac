/** The store's file in a data dir: a leader's own, or the copy a standby keeps of it. */
export const STORE_FILE = 'orchestrator.db';
