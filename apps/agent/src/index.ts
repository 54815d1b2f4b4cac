// Public surface of @kraken/agent: every export is listed by name.
export {};
