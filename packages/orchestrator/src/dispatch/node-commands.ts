import type { Broker } from '@kraken/broker';
import type { MessageOf } from '@kraken/messages';
import { DeliveryClass } from '@kraken/messages';
import type { LeaderTerm } from '../leadership/leader-term.js';
import type { OrchestratorQueues } from '../options.js';

/** The commands an orchestrator sends to a node's queue. */
export type NodeCommand = MessageOf<'deploy.request' | 'deploy.cancel' | 'deploy.stop' | 'deploy.lifecycle' | 'deploy.prepare' | 'leader.elected'>;

/** Sends commands to nodes' queues, only while the term leads; each queue is declared once, on first use. */
export class NodeCommands {
  private readonly declaredNodeQueues = new Set<string>();

  constructor(
    private readonly broker: Broker,
    private readonly queues: OrchestratorQueues,
    private readonly term: Pick<LeaderTerm, 'requireLeads'>,
  ) {}

  async send(nodeId: string, message: NodeCommand): Promise<void> {
    this.term.requireLeads(`send ${message.type}`, 'deploymentId' in message.body ? message.body.deploymentId : undefined);
    const queue = this.queues.node(nodeId);
    if (!this.declaredNodeQueues.has(queue)) {
      await this.broker.declareQueue(queue, { class: DeliveryClass.Durable });
      this.declaredNodeQueues.add(queue);
    }
    await this.broker.publish(queue, message);
  }
}
