// Public surface of @kraken/orchestrator: every export is listed by name.
export {};
