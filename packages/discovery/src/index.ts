// Public surface of @kraken/discovery: every export is listed by name.
export {};
