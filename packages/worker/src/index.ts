// Public surface of @kraken/worker: every export is listed by name.
export {};
