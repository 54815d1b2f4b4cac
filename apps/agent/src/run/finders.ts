import type { Logger } from '@kraken/common';
import { findOrchestrators, localIPv4s, scanSubnet } from '@kraken/discovery';
import type { AgentConfig } from '../config/agent-config.js';
import type { OrchestratorFinders } from './decide-role.js';

/**
 * The interface mDNS uses: the one named by --interface, else the first non-loopback IPv4 one.
 * Undefined when the machine has none (then there is nobody to find and nothing to announce to).
 */
export function mdnsInterfaceAddress(config: Pick<AgentConfig, 'interface'>): string | undefined {
  const choices = localIPv4s();
  if (config.interface === undefined) return choices[0]?.address;
  return choices.find((choice) => choice.name === config.interface)?.address;
}

/**
 * How long an agent of this priority looks before it leads. Agents started together must not all
 * lead: a standby (1) looks three times as long as a leader (0), so the leader's announcement
 * reaches it first; workers (2+) look once per round until a leader appears.
 */
function discoveryWindowMs(config: Pick<AgentConfig, 'discoveryTimeout' | 'priority'>): number {
  return config.discoveryTimeout * (1 + 2 * Math.min(config.priority, 1));
}

/**
 * mDNS (when on) and the opt-in subnet scan, as ARCHITECTURE "Discovery" has them. Each reports every
 * orchestrator it finds: another cluster's may answer first on a shared LAN.
 */
export function discoveryFinders(config: AgentConfig, logger: Logger): OrchestratorFinders {
  const finders: OrchestratorFinders = {};
  if (config.mdns) {
    finders.mdns = async () => {
      const interfaceAddress = mdnsInterfaceAddress(config);
      if (interfaceAddress === undefined) {
        logger.info('mDNS skipped: no network interface with an IPv4 address', { interface: config.interface });
        return [];
      }
      const timeoutMs = discoveryWindowMs(config);
      logger.debug('looking for orchestrators with mDNS', { interfaceAddress, timeoutMs });
      // the first answer comes at once; the others on the link answer the same query
      const found = await findOrchestrators({ interfaceAddress, timeoutMs, settleMs: config.discoveryTimeout, logger });
      logger.debug('mDNS search done', { found: found.map((candidate) => candidate.url) });
      return found;
    };
  }
  const scanInterface = config.scanInterface;
  if (scanInterface !== undefined) {
    finders.scan = async () => {
      logger.info('scanning the subnet for an orchestrator', { interface: scanInterface, port: config.apiPort });
      const result = await scanSubnet({ interfaceName: scanInterface, port: config.apiPort, secure: !config.insecureNoTls });
      const compatible = result.candidates.filter((candidate) => candidate.compatible);
      logger.info('subnet scan done', { cidr: result.cidr, scanned: result.scanned, found: result.candidates.length });
      for (const candidate of result.candidates.filter((found) => !found.compatible)) {
        logger.warn(
          `not joining the orchestrator at ${candidate.url}: it speaks protocol version ${String(candidate.protocolVersion)}`,
          {
            clusterId: candidate.clusterId,
          },
        );
      }
      return compatible;
    };
  }
  return finders;
}
