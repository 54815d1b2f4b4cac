import type { Logger } from '@kraken/common';
import { redactUrl } from '@kraken/broker';
import type { AgentConfig } from '../config/agent-config.js';
import { loadOrCreateNodeId } from '../config/node-identity.js';
import { BrokerExecutor } from '../executors/broker-executor.js';
import type { OrchestratorExecutor } from '../executors/orchestrator-executor.js';
import { rabbitInstalled } from '@kraken/rabbitmq';
import { WorkerExecutor } from '../executors/worker-executor.js';
import { IngressExecutor } from '../executors/ingress-executor.js';
import { Agent } from './agent.js';
import type { OrchestratorFinders, Role } from './decide-role.js';
import type { Candidate } from '@kraken/discovery';
import { decideRole, roleSummary } from './decide-role.js';
import type { Executor } from './executor.js';
import { discoveryFinders, mdnsInterfaceAddress } from './finders.js';
import { brokerNodeAddress } from './broker-node-address.js';
import { joinWhenReachable } from './join-cluster.js';
import { certificateNames, keepAgentTls } from './agent-tls.js';
import { joinFirstAccepting } from './join-first-accepting.js';
import type { BrokerNodeKeeper } from './broker-node-keeper.js';
import type { OpenedBroker } from './open-broker.js';
import { openBroker } from './open-broker.js';
import { followBrokerEndpoints, openJoinedBroker } from './joined-broker.js';
import { ManagedRabbitExecutor } from '../executors/managed-rabbit-executor.js';
import { LeaseExecutor } from '../executors/lease-executor.js';
import { ForwardExecutor } from '../executors/forward-executor.js';
import { PulseExecutor } from '../executors/pulse-executor.js';
import { pulseKeyFromText } from '@kraken/orchestrator/follow';
import type { StandbyExecutor } from '../executors/standby-executor.js';
import { openDeployer } from './open-deployer.js';
import { ControlExecutor } from '../executors/control-executor.js';
import { readLedCluster } from '../client/credentials.js';
import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';

/** How long a joining agent waits for an orchestrator that does not answer yet (its RabbitMQ node may be booting). */
const JOIN_PATIENCE_MS = 120_000;

export interface RunningAgent {
  agent: Agent;
  nodeId: string;
  role: Role;
  runtime: 'docker' | 'process';
  /** The API URL when this agent leads. */
  apiUrl?: string | undefined;
  /**
   * Whether another agent may lead in this one's place: its RabbitMQ node has peers (as last
   * read). A lone leader that lost the lease (its broker restarted) leads again at once.
   */
  hasPeers(): boolean;
  stop(): Promise<void>;
}

export interface StartAgentOptions {
  config: AgentConfig;
  logger: Logger;
  /** How to look for a running orchestrator. @default mDNS and the subnet scan, as configured */
  finders?: OrchestratorFinders;
  /** Extra executors (a custom agent's own jobs), set up after the built-in ones. */
  executors?: Executor[];
  /**
   * This agent led (or was to lead) and lost the lease to another: what runs must stop, and the agent
   * start again to follow the new leader (runAgentCommand does). @default logs it
   */
  onStepDown?: (why: string) => void;
  /**
   * Look for a leader this long before leading: after losing the lease, the agent that took over
   * is to be followed, not challenged. @default 0
   */
  followFirstMs?: number;
  /** This machine keeps its cluster's state and found no leader for a while: it competes for the lease. @default false */
  competeForLease?: boolean;
  /** Looking for its leader again: discovery is asked beside the --join URL. @default false */
  lookBeyondJoin?: boolean;
  /** How long a lone orchestrator to join may take to answer. @default JOIN_PATIENCE_MS */
  joinPatienceMs?: number;
  /**
   * Keeps this machine's RabbitMQ node running across the starts of one process (runAgentCommand's
   * loop), so that a start ending never takes a member out of the cluster's majority. @default none: a start's end stops it
   */
  brokerNodeKeeper?: BrokerNodeKeeper;
  /** Told the API URL and secrets when this agent leads, so the CLI can print them. */
  onLeading?: ConstructorParameters<typeof OrchestratorExecutor>[0]['onListening'];
}

/**
 * An orchestrator's URL as this agent asks it: over TLS, unless the cluster runs with
 * --insecure-no-tls. mDNS adverts name a port, not a scheme, and --join may say http.
 */
function secureUrl(url: string, config: Pick<AgentConfig, 'insecureNoTls'>): string {
  return config.insecureNoTls ? url : url.replace(/^http:/, 'https:');
}

/** The finders, with each orchestrator they find named by the URL this agent asks it at (see secureUrl). */
function secureFinders(finders: OrchestratorFinders, config: Pick<AgentConfig, 'insecureNoTls'>): OrchestratorFinders {
  const secured = (find: (() => Promise<readonly Candidate[]>) | undefined) =>
    find === undefined ? undefined : async () => (await find()).map((candidate) => ({ ...candidate, url: secureUrl(candidate.url, config) }));
  const mdns = secured(finders.mdns);
  const scan = secured(finders.scan);
  return { ...(mdns === undefined ? {} : { mdns }), ...(scan === undefined ? {} : { scan }) };
}

/** Decides the role, opens the broker and the runtime, and starts the executors. */
export async function startAgent(options: StartAgentOptions): Promise<RunningAgent> {
  const { config, logger } = options;
  const nodeId = loadOrCreateNodeId(config.dataDir, config.nodeId);
  const log = logger.child({ nodeId });
  // a machine that led its cluster joins it again with the token it kept when another leads it now
  const ledCluster = config.joinToken === undefined ? readLedCluster(config.dataDir) : undefined;
  const joinToken = config.joinToken ?? ledCluster?.joinToken;
  const role = await decideRole(
    {
      join: config.join === undefined ? undefined : secureUrl(config.join, config),
      priority: config.priority,
      hasJoinToken: config.joinToken !== undefined,
      ownClusterId: ledCluster?.clusterId,
      waitForLeaderMs: config.waitForLeader,
      followFirstMs: options.followFirstMs ?? 0,
      competeForLease: options.competeForLease ?? false,
      lookBeyondJoin: options.lookBeyondJoin ?? false,
      onStillLooking: (round) => {
        if (config.priority >= 2) log.info('no orchestrator found yet; this agent does not lead (priority >= 2), so it keeps looking', { round });
        else log.info('no leader found yet; this agent lost the lease, so it looks for the one that took over before it would lead again', { round });
      },
    },
    secureFinders(options.finders ?? discoveryFinders(config, log), config),
  );
  const summary = roleSummary(role);
  log.info(summary.message, summary.fields);

  const executors: Executor[] = [];
  // what this start opened before the agent runs its executors (a RabbitMQ node, connections, the
  // runtime, an early mDNS announcement): released if the start fails, or a node left running would
  // hold its port, or the runtime its folder, and every later start in this process would fail on it
  const toRelease: (() => Promise<unknown>)[] = [];
  let started = false;
  // the same keeper for this machine's RabbitMQ node, whichever path (lead or member) starts it
  const keptNode = options.brokerNodeKeeper === undefined ? {} : { keeper: options.brokerNodeKeeper };
  try {
    const onStepDown =
      options.onStepDown ??
      ((why: string) => {
        log.error('this agent lost the lease to lead the cluster; restart it to follow the new leader', { why });
      });
    let orchestrator: OrchestratorExecutor | undefined;
    // whether anyone watches the cluster, as this agent knows it: its workers pace app stats by it
    let watched = () => true;
    let standby: StandbyExecutor | undefined;
    if (role.kind === 'lead') {
      // The control plane (store, API, UI: Apollo, GraphQL, SQLite) is loaded here, where it runs,
      // and not at the top of this module, so that an agent that never leads does not carry it.
      const { announcerFor, loadOrCreateSecrets, orchestratorFor } = await import('./leader-parts.js');
      // made (or read) before the announcement, which names the cluster: whether this start made them is known only here
      const secrets = loadOrCreateSecrets(config.dataDir);
      const announcer = announcerFor(config, nodeId, log, () => orchestrator?.url);
      // Say at once that this agent leads: starting its RabbitMQ node takes seconds, and an agent that
      // looked meanwhile and found nobody would lead too. Joiners wait until the API answers.
      // (An API on a port the kernel picks is announced once it listens.) A member competing for the
      // lease of a cluster that exists says nothing until it holds it: another may win.
      if (config.apiPort !== 0 && role.competing !== true) await announcer?.setup();
      if (announcer !== undefined) toRelease.push(() => announcer.stop());
      const opened: OpenedBroker = await openBroker({
        url: config.brokerUrl,
        logger: log,
        managed: config.managedBroker
          ? { dataDir: config.dataDir, nodeId, port: config.brokerPort, address: brokerNodeAddress(config), ...keptNode }
          : undefined,
      });
      const { managed: leaderNode, broker: leaderBroker } = opened;
      if (leaderNode !== undefined) toRelease.push(() => leaderNode.release());
      toRelease.push(() => leaderBroker.close());
      if (opened.managed !== undefined) executors.push(new ManagedRabbitExecutor(opened.managed));
      executors.push(new BrokerExecutor(opened.broker));
      // where standbys may take over, this agent leads only once and while it holds the lease
      const lease = opened.managed === undefined ? undefined : new LeaseExecutor({ nodeId, broker: opened.broker, onStepDown, logger: log });
      const leading = orchestratorFor({
        config,
        nodeId,
        opened,
        logger: log,
        secretsCreated: secrets.created,
        ...(options.onLeading === undefined ? {} : { onLeading: options.onLeading }),
        ...(lease === undefined ? {} : { mayAct: () => lease.holds() }),
      });
      orchestrator = leading;
      watched = () => leading.watched();
      if (lease !== undefined) executors.push(lease);
      executors.push(leading);
      // after the orchestrator: it stops announcing first
      if (announcer !== undefined) executors.push(announcer);
    } else {
      // an agent that may lead runs a member of the cluster's RabbitMQ cluster, so the broker outlives any one machine
      const brokerNode = config.priority < 2 && config.managedBroker && config.brokerUrl === undefined && (await rabbitInstalled());
      const { grant, candidate } = await joinFirstAccepting({
        candidates: role.candidates,
        // a lone candidate found by mDNS may still be starting (its RabbitMQ node boots before its API
        // answers): wait for it; among several, one that does not answer is passed over
        join: ({ url }) =>
          joinWhenReachable(
            { url, token: joinToken, nodeId, brokerNode, certificateNames: config.insecureNoTls ? undefined : certificateNames(config.publicHost), logger: log },
            {
              patienceMs: role.candidates.length === 1 ? (options.joinPatienceMs ?? JOIN_PATIENCE_MS) : 0,
              onWaiting: (error, attempt) => {
                if (attempt === 1) log.info('the orchestrator does not answer yet (it may be starting); waiting for it', { url, error: error.message });
              },
            },
          ),
        logger: log,
      });
      log.info('joined the cluster', { clusterId: grant.clusterId, url: candidate.url, orchestrator: grant.orchestratorNodeId, broker: redactUrl(grant.brokerUrl), tls: grant.tls !== undefined });
      // the CA for every connection to the cluster from here on, and this agent's certificate for its own API
      if (grant.tls !== undefined) keepAgentTls(config.dataDir, grant.tls);
      const joined = await openJoinedBroker(
        grant,
        { dataDir: config.dataDir, nodeId, amqpPort: config.brokerPort, address: brokerNodeAddress(config), ...keptNode },
        log,
      );
      const { managed: memberNode, broker: memberBroker, standbyBroker: adminBroker } = joined;
      if (memberNode !== undefined) toRelease.push(() => memberNode.release());
      toRelease.push(() => memberBroker.close());
      if (adminBroker !== undefined) toRelease.push(() => adminBroker.close());
      if (joined.managed !== undefined) executors.push(new ManagedRabbitExecutor(joined.managed));
      executors.push(new BrokerExecutor(joined.broker));
      // every agent answers the API: this one by forwarding to the leader (set up before the standby, which may take the port over)
      const forwarding = new ForwardExecutor({
        nodeId,
        broker: joined.broker,
        joined: { nodeId: grant.orchestratorNodeId, apiUrl: candidate.url },
        tls: grant.tls,
        apiPort: config.apiPort,
        apiHost: config.apiHost,
        // the leader's beacon also says where the broker's nodes are: reconnects go round them all
        onLeaderChanged: ({ brokerEndpoints }) => {
          if (brokerEndpoints !== undefined) followBrokerEndpoints(joined, grant.brokerUrl, brokerEndpoints);
        },
        logger: log,
      });
      executors.push(forwarding);
      const pulseKey = pulseKeyFromText(grant.pulseKey);
      const pulses = pulseKey === undefined ? undefined : new PulseExecutor({ nodeId, key: pulseKey, leader: () => forwarding.leader, logger: log });
      if (pulses !== undefined) executors.push(pulses);
      // the leader's beacon says it; a standby that took over knows it from its own API
      let tookOver: OrchestratorExecutor | undefined;
      watched = () => tookOver?.watched() ?? forwarding.leader?.watched ?? true;
      const { standbyBroker, managed } = joined;
      // the key that opens the sealed secrets of the store: without it a copy would be of no use
      const dataKeyText = grant.brokerCluster?.dataKey;
      if (managed !== undefined && dataKeyText === undefined) {
        log.warn('the leader sent no data key with this node\'s broker membership (it runs an older Kraken): this agent keeps no copy of the state and does not take over until the leader is updated');
      }
      if (standbyBroker !== undefined && managed !== undefined && joinToken !== undefined && dataKeyText !== undefined) {
        // a standby follows the leader's store and may take over: it loads the control plane (a
        // priority-2 worker never gets here, having no RabbitMQ node of its own)
        const [{ StandbyExecutor }, { announcerFor, orchestratorFor, DataKey }] = await Promise.all([
          import('../executors/standby-executor.js'),
          import('./leader-parts.js'),
        ]);
        const dataKey = DataKey.fromText(dataKeyText, `the membership grant of ${candidate.url}`);
        const asLeader: OpenedBroker = { broker: standbyBroker, kind: 'managed', url: managed.adminUrl, managed };
        standby = new StandbyExecutor({
          nodeId,
          dataDir: config.dataDir,
          broker: standbyBroker,
          brokerNode: managed,
          leaderUrl: () => forwarding.leader?.apiUrl ?? candidate.url,
          clusterCa: grant.tls?.caCert,
          joinToken,
          dataKey,
          takeOver: async (mayAct) => {
            const leading = orchestratorFor({ config, nodeId, opened: asLeader, logger: log, mayAct, dataKey, beforeListen: () => tookOverFrom(forwarding, pulses) });
            tookOver = leading;
            const announcing = announcerFor(config, nodeId, log, () => leading.url);
            await leading.setup();
            await announcing?.setup();
            return announcing === undefined ? [leading] : [leading, announcing];
          },
          onStepDown,
          logger: log,
        });
        executors.push(standby);
      }
    }

    const runtime = await openDeployer({
      runtime: config.runtime,
      dockerSocket: config.dockerSocket,
      dataDir: config.dataDir,
      nodeId,
      logger: log,
      appUser: config.appUser === false ? undefined : config.appUser,
      appsRoot: config.appsDir,
    });
    toRelease.push(() => runtime.close());
    executors.push(
      new WorkerExecutor({
        broker: brokerOf(executors),
        deployer: runtime.deployer,
        engine: runtime.engine,
        nodeId,
        logger: log,
        dataDir: config.dataDir,
        publicHost: config.publicHost,
        crashLoop: { restarts: config.crashLoopRestarts, steadyAfterMs: config.crashLoopSteadyAfter },
        failoverBuilds: config.failoverBuilds,
        orchestrationPriority: role.kind === 'lead' ? 0 : config.priority < 2 ? config.priority : undefined,
        closeDeployer: () => runtime.close(),
        watched,
      }),
    );
    if (config.ingress) {
      executors.push(
        new IngressExecutor({
          broker: brokerOf(executors),
          port: config.ingressPort,
          host: config.ingressHost,
          // app names resolve over mDNS where the agent uses it (--no-mdns turns both off)
          mdnsInterfaceAddress: config.mdns ? mdnsInterfaceAddress(config) : undefined,
          logger: log,
        }),
      );
    }
    executors.push(
      new ControlExecutor({
        dataDir: config.dataDir,
        promote: () => {
          if (standby !== undefined) return standby.promoteOnRequest();
          const why =
            role.kind === 'lead'
              ? `this agent (${nodeId}) leads the cluster already`
              : config.priority >= 2
                ? `this agent never leads (priority ${config.priority}): promote a standby`
                : 'this agent is no standby: it keeps no copy of the cluster\'s state (a standby needs a RabbitMQ node of its own: rabbitmq-server installed, no --broker-url)';
          return Promise.reject(new KrakenError(ErrorCode.Conflict, why));
        },
        logger: log,
      }),
    );
    executors.push(...(options.executors ?? []));

    const agent = new Agent({ executors, logger: log });
    // An executor that fails to set up makes the agent stop those set up before it, not those after:
    // what those would have owned (the runtime, the announcement) is released below. Each release
    // is idempotent, so what a stopped executor let go of already costs nothing.
    await agent.start();
    started = true;
    const managedNode = executors.find((executor): executor is ManagedRabbitExecutor => executor instanceof ManagedRabbitExecutor);
    return {
      agent,
      nodeId,
      role,
      runtime: runtime.runtime,
      apiUrl: orchestrator?.url,
      hasPeers: () => (managedNode?.members()?.members.length ?? 1) > 1,
      stop: () => agent.stop(),
    };
  } finally {
    if (!started) await releaseOpened(toRelease, log);
  }
}

/** Releases what a failed start opened, last opened first; a failure to release is logged, not thrown over the start's own error. */
async function releaseOpened(opened: readonly (() => Promise<unknown>)[], log: Logger): Promise<void> {
  for (const release of [...opened].reverse()) {
    try {
      await release();
    } catch (error) {
      log.warn('could not release what a failed start opened', { error: toKrakenError(error).message });
    }
  }
}

/** A standby about to lead frees the API port it forwarded on, and stops pulsing the leader it replaces. */
async function tookOverFrom(forwarding: ForwardExecutor, pulses: PulseExecutor | undefined): Promise<void> {
  await pulses?.stop();
  await forwarding.stop();
}

function brokerOf(executors: Executor[]) {
  const owner = executors.find((executor): executor is BrokerExecutor => executor instanceof BrokerExecutor);
  if (owner === undefined) throw new Error('no broker executor');
  return owner.broker;
}

