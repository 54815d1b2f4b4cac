// Public surface of @kraken/process-deployer: every export is listed by name.
export {};
