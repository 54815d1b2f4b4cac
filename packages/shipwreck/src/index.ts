// Public surface of @kraken/shipwreck: every export is listed by name.
export {};
