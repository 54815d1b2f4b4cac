// Public surface of @kraken/testing: every export is listed by name.
export {};
