// Public surface of @kraken/ui-host: every export is listed by name.
export {};
