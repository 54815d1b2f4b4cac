import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { LoadedConfig } from '@kraken/common';
import { ErrorCode, KrakenError, loadConfig, parseDuration } from '@kraken/common';
import { DEFAULT_APPS_ROOT } from '../run/process-dir.js';

/** The unprivileged user process-runtime apps run as unless told otherwise. */
export const DEFAULT_APP_USER = 'kraken-app';
/** What useradd accepts on every distribution. */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Default API port: Apollo's customary 4000, which the original Kraken clients were pointed at. */
export const DEFAULT_API_PORT = 4000;

const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })])
  .transform((value) => (typeof value === 'boolean' ? value : ['true', '1', 'yes'].includes(value)));

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});

const httpUrl = z.string().refine((value) => /^https?:\/\/[^/\s]+/.test(value), { error: 'expected an http(s):// URL such as http://10.0.0.5:4000' });
/** Parsed as fetch will parse it: a value that passes here is one the webhook can POST to. */
const webhookUrl = z.string().refine(
  (value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol) && new URL(value).hostname !== '',
  { error: 'expected an absolute http(s) URL such as https://hooks.example.com/kraken' },
);
const amqpUrl = z.string().refine((value) => /^amqps?:\/\/[^/\s]+/.test(value), { error: 'expected an amqp(s):// URL such as amqp://kraken:secret@10.0.0.5:5672' });

/** Every setting of `kraken agent`; flags, KRAKEN_* variables and a TOML/JSON file use the same names. */
export const agentConfigSchema = z.object({
  /** Where the agent keeps its node id, secrets, the orchestrator database and app working folders. */
  dataDir: z.string().min(1).default(path.join(os.homedir(), '.kraken')),
  /** This machine's id in the cluster. Default: generated once and kept in the data dir. */
  nodeId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: 'expected 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit' })
    .optional(),
  apiPort: z.coerce.number().int().min(0).max(65_535).default(DEFAULT_API_PORT),
  apiHost: z.string().min(1).default('0.0.0.0'),
  /**
   * An external RabbitMQ for the cluster. Default: a RabbitMQ node this agent runs itself where
   * rabbitmq-server is installed, else a local RabbitMQ if one answers, else an in-process broker (single node).
   */
  brokerUrl: amqpUrl.optional(),
  /** Run a RabbitMQ node of its own when leading, where rabbitmq-server is installed (no --broker-url needed to add machines). */
  managedBroker: flag.default(true),
  /** The AMQP port of that node (Erlang distribution uses this + 20000). Not 5672, so a system RabbitMQ may run beside it. */
  brokerPort: z.coerce.number().int().min(1).max(45_535).default(5673),
  /** The broker URL handed to joining agents, when theirs differs (another host name, a non-guest user). */
  advertiseBrokerUrl: amqpUrl.optional(),
  /** Join this orchestrator instead of looking for one. */
  join: httpUrl.optional(),
  /** The cluster's join token (printed by the orchestrator at first start; `kraken token` prints it again). */
  joinToken: z.string().min(1).optional(),
  /** A file holding the join token: unlike --join-token, it does not show in `ps` or a unit file. */
  joinTokenFile: z.string().min(1).optional(),
  /** 0 = leader, 1 = standby, 2+ = never orchestrates. */
  priority: z.coerce.number().int().min(0).max(100).default(0),
  logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  logFormat: z.enum(['pretty', 'json']).default('pretty'),
  /** What runs apps: Docker when its engine answers, else supervised processes. */
  runtime: z.enum(['auto', 'docker', 'process']).default('auto'),
  dockerSocket: z.string().min(1).default('/var/run/docker.sock'),
  /**
   * The unprivileged user process-runtime apps (and their installs and tests) run as, created
   * when missing, so that an app cannot read the data dir or signal the agent; false runs them as
   * the agent's user. Applies where the agent is root and that user can run node; elsewhere apps
   * run as the agent's user, and the agent says so at start.
   */
  appUser: z
    .union([z.boolean(), z.string()])
    .transform((value, ctx) => {
      if (typeof value === 'boolean') return value ? DEFAULT_APP_USER : false;
      if (['false', 'no', '0'].includes(value)) return false;
      if (['true', 'yes', '1'].includes(value)) return DEFAULT_APP_USER;
      if (!USER_NAME.test(value)) {
        ctx.addIssue({ code: 'custom', message: "expected a user name (1-32 lower-case letters, digits, '_' or '-', not starting with a digit or '-') or false" });
        return z.NEVER;
      }
      return value;
    })
    .default(DEFAULT_APP_USER),
  /**
   * Where process-runtime apps that run as the app user keep their folders (one per data dir):
   * outside the data dir, which that user cannot enter. It must be a folder the app user can
   * traverse.
   */
  appsDir: z.string().min(1).default(DEFAULT_APPS_ROOT),
  /** The network interface mDNS browses and announces on. Default: the first with an IPv4 address. */
  interface: z.string().min(1).optional(),
  /** Look for an orchestrator with mDNS before becoming one (and announce when leading). */
  mdns: flag.default(true),
  /** How long to look for an orchestrator before leading. */
  discoveryTimeout: duration.default(1_500),
  /** Agents that never lead (priority 2+) keep looking for an orchestrator this long. */
  waitForLeader: duration.default(300_000),
  /** Opt-in: also scan this interface's subnet for orchestrators' /ping (for networks that drop multicast). */
  scanInterface: z.string().min(1).optional(),
  /** Host name or address written into app URLs and announced. Default: the first IPv4 address. */
  publicHost: z.string().min(1).optional(),
  /** Restarts of an app that ends each time before running `crashLoopSteadyAfter`, after which it is stopped and ERRORED with the reason. */
  crashLoopRestarts: z.coerce.number().int().min(1).max(1000).default(5),
  /** A restarted app that runs this long is no longer crash-looping. */
  crashLoopSteadyAfter: duration.default(60_000),
  /**
   * Build apps that run on other machines ahead, at low priority, so that a move here after their
   * machine dies is a start, not a clone, build and test. Off on a machine too small to spare the
   * disk and CPU: the leader then asks other machines, and a move here builds.
   */
  failoverBuilds: flag.default(true),
  /** Serve every app by name on this machine (the ingress). */
  ingress: flag.default(true),
  /** The ingress port. Default: 80 where the agent may bind it, else 8080. */
  ingressPort: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Address the ingress listens on. */
  ingressHost: z.string().min(1).default('0.0.0.0'),
  /**
   * When leading, POST a JSON notification here for each failed deploy, moved app and dead node
   * (retried, with a timeout). Every agent that may lead should have it: a standby that takes over
   * sends with its own setting.
   */
  webhookUrl: webhookUrl.optional(),
  /**
   * When leading, how long a removed deployment (`kraken rm`, Remove in the UI) and its log stay
   * readable by id before they are deleted for good; 0 deletes them at the next pass. Default: the
   * orchestrator's (7 days).
   */
  removedRetention: duration.optional(),
  /** Accept API calls without a token. Only for a trusted lab; logged loudly. */
  insecureNoAuth: flag.default(false),
  /**
   * Serve the API, the UI and joins in clear to every machine, with no cluster CA: for development
   * only; logged loudly. Without it they are TLS with certificates from the cluster CA (loopback may
   * stay plain), and a join token carries the CA's digest.
   */
  insecureNoTls: flag.default(false),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

export interface LoadAgentConfigInput {
  flags?: Readonly<Record<string, unknown>>;
  env?: Readonly<Record<string, string | undefined>>;
  /** A `.toml` or `.json` file (`--config`); when absent, `<dataDir>/agent.toml` is not read implicitly. */
  file?: string | undefined;
}

export function loadAgentConfig(input: LoadAgentConfigInput): LoadedConfig<AgentConfig> {
  const loaded = loadConfig({
    schema: agentConfigSchema,
    ...(input.file === undefined ? {} : { file: input.file }),
    ...(input.env === undefined ? {} : { env: input.env }),
    ...(input.flags === undefined ? {} : { flags: input.flags }),
  });
  return { ...loaded, config: withJoinTokenFromFile(loaded.config) };
}

/** `--join-token-file`: the token read from its file, as if given with --join-token. */
function withJoinTokenFromFile(config: AgentConfig): AgentConfig {
  const file = config.joinTokenFile;
  if (file === undefined) return config;
  if (config.joinToken !== undefined) {
    throw new KrakenError(ErrorCode.InvalidConfig, 'give the join token once: --join-token (or KRAKEN_JOIN_TOKEN) or --join-token-file, not both', {
      details: { field: 'joinTokenFile' },
    });
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KrakenError(ErrorCode.InvalidConfig, `--join-token-file: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      details: { field: 'joinTokenFile' },
    });
  }
  const token = text.trim();
  if (token === '' || /\s/.test(token)) {
    throw new KrakenError(ErrorCode.InvalidConfig, `--join-token-file: ${file} must hold the join token alone, on one line`, { details: { field: 'joinTokenFile' } });
  }
  return { ...config, joinToken: token };
}
