import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SECRETS_FILE, STORE_FILE } from '@kraken/orchestrator/follow';
import { BROKER_NODE_DIR, BROKER_SECRETS_FILE } from './broker-secrets.js';
import { keepsMembership } from './kept-membership.js';

describe('keepsMembership', () => {
  let dataDir: string;
  const config = (overrides: Partial<Parameters<typeof keepsMembership>[0]> = {}) => ({ dataDir, priority: 1, managedBroker: true, brokerUrl: undefined, ...overrides });

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kraken-kept-'));
    writeFileSync(path.join(dataDir, SECRETS_FILE), JSON.stringify({ apiToken: 'a'.repeat(40), joinToken: 'j'.repeat(40), clusterId: 'kraken-0123456789ab' }));
    writeFileSync(path.join(dataDir, BROKER_SECRETS_FILE), '{}');
    mkdirSync(path.join(dataDir, BROKER_NODE_DIR));
    writeFileSync(path.join(dataDir, STORE_FILE), '');
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("holds for a machine that may lead and keeps the cluster's secrets, its RabbitMQ node and a store", () => {
    expect(keepsMembership(config())).toBe(true);
  });

  it.each([
    ['it never leads (priority 2)', { priority: 2 }],
    ['it runs no RabbitMQ node of its own', { managedBroker: false }],
    ['it uses a RabbitMQ it was given', { brokerUrl: 'amqp://rabbit.lan' }],
  ])('does not hold when %s', (_why, overrides) => {
    expect(keepsMembership(config(overrides))).toBe(false);
  });

  it.each([SECRETS_FILE, BROKER_SECRETS_FILE, BROKER_NODE_DIR, STORE_FILE])('does not hold without %s (it would found a new, empty cluster)', (missing) => {
    rmSync(path.join(dataDir, missing), { recursive: true });
    expect(keepsMembership(config())).toBe(false);
  });
});
