// Public surface of @kraken/ui: every export is listed by name.
export {};
