// Public surface of @kraken/broker: every export is listed by name.
export {};
