import { isIPv4 } from 'node:net';
import type { AgentConfig } from '../config/agent-config.js';
import { mdnsInterfaceAddress } from './finders.js';

/**
 * The address naming this agent's RabbitMQ node: what other machines reach it at. --public-host
 * when it is an IPv4 address, else the LAN interface's, else loopback (a machine on its own).
 */
export function brokerNodeAddress(config: AgentConfig): string {
  if (config.publicHost !== undefined && isIPv4(config.publicHost)) return config.publicHost;
  return mdnsInterfaceAddress(config) ?? '127.0.0.1';
}
