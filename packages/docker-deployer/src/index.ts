// Public surface of @kraken/docker-deployer: every export is listed by name.
export {};
