// Set before each integration test file: agents the tests start on this machine serve their
// ingress on a port the kernel picks, not on 80 or 8080 of the machine (which a live Kraken or
// another program may hold). A test that wants a port passes --ingress-port, which wins over this.
process.env.KRAKEN_INGRESS_PORT ??= '0';
