import type { Broker, Subscription } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { toKrakenError } from '@kraken/common';
import { AppNameResponder } from '@kraken/discovery';
import { Ingress, RouteTable } from '@kraken/ingress';
import { MessageType } from '@kraken/messages';
import { ROUTES_TOPIC } from '@kraken/orchestrator/follow';
import type { Executor } from '../run/executor.js';

/** The ports tried when none is configured: 80 where the agent may bind it, else 8080. */
const DEFAULT_INGRESS_PORTS = [80, 8080] as const;

export interface IngressExecutorOptions {
  /** This agent's connection: it hears the leader's route tables there. */
  broker: Broker;
  /** The port to serve on; undefined tries DEFAULT_INGRESS_PORTS in order. */
  port: number | undefined;
  host: string;
  /** Answer mDNS queries for `<app name>.local` on this interface with its address. @default no mDNS */
  mdnsInterfaceAddress?: string | undefined;
  logger: Logger;
}

/**
 * Every agent serves every app by name: its ingress follows the route tables the leader publishes
 * and forwards each request to wherever the app runs now. A port it cannot have is logged and the
 * agent goes on with its other jobs (apps then answer through the other agents).
 */
export class IngressExecutor implements Executor {
  readonly name = 'ingress';
  readonly routes = new RouteTable();
  private subscription: Subscription | undefined;
  private ingress: Ingress | undefined;
  private names: AppNameResponder | undefined;

  constructor(private readonly options: IngressExecutorOptions) {}

  /** The port it answers on; undefined when it could not listen. */
  get port(): number | undefined {
    return this.ingress?.port;
  }

  async setup(): Promise<void> {
    const { broker, logger } = this.options;
    const log = logger.child({ component: 'ingress' });
    try {
      this.subscription = await broker.subscribe(ROUTES_TOPIC, ({ message }) => {
        if (message.type !== MessageType.IngressRoutes) return;
        if (this.routes.apply({ epoch: message.epoch, seq: message.body.seq, routes: message.body.routes })) {
          log.debug('applied a route table', { epoch: message.epoch, seq: message.body.seq, routes: message.body.routes.length });
        }
      });
    } catch (error) {
      // a broker user made by a leader older than the ingress may not read the topic: joining again renews it
      log.error(`the ingress gets no routes: it could not subscribe to ${ROUTES_TOPIC} (${toKrakenError(error).message}); restart this agent so that it joins again`);
      return;
    }
    this.ingress = await this.listen(log);
    const interfaceAddress = this.options.mdnsInterfaceAddress;
    if (this.ingress === undefined || interfaceAddress === undefined) return;
    try {
      this.names = await AppNameResponder.start({ interfaceAddress, address: interfaceAddress, has: (name) => this.routes.lookup(name) !== undefined, logger: log });
      log.info('answering mDNS for every app name (<name>.local) with this agent\'s address', { interfaceAddress });
    } catch (error) {
      log.warn(`app names do not resolve through this agent's mDNS: ${toKrakenError(error).message}`);
    }
  }

  async stop(): Promise<void> {
    await this.subscription?.cancel();
    this.subscription = undefined;
    await this.names?.close();
    await this.ingress?.close();
  }

  private async listen(log: Logger): Promise<Ingress | undefined> {
    const { port, host } = this.options;
    const ports = port === undefined ? DEFAULT_INGRESS_PORTS : [port];
    const refusals: string[] = [];
    for (const candidate of ports) {
      try {
        const ingress = await Ingress.listen({ routes: this.routes, port: candidate, host, logger: log });
        const shownPort = ingress.port === 80 ? '' : `:${String(ingress.port)}`;
        log.info(`the ingress answers on port ${String(ingress.port)}: an app named <name> at http://<name>.local${shownPort}, or any agent with the header "Host: <name>"`, {
          ...(refusals.length === 0 ? {} : { notOn: refusals }),
        });
        return ingress;
      } catch (error) {
        refusals.push(`${String(candidate)} (${toKrakenError(error).message})`);
      }
    }
    log.error(`the ingress does not run on this agent: it could not listen on port ${refusals.join(', nor on ')}. Apps still answer through the other agents; free the port or choose another with --ingress-port`);
    return undefined;
  }
}
