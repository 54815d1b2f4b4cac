// Public surface of @kraken/messages: every export is listed by name.
export {};
