import type { NodeInfoBody, Runtime } from '@kraken/messages';
import { Runtime as Runtimes } from '@kraken/messages';

/**
 * Whether a heartbeating node can take apps of `runtime` now. A node reporting
 * `dockerHealthy: false` is alive but its engine is not answering: it cannot run Docker apps,
 * so it is not a candidate for them (its running apps are left alone; the engine often returns).
 */
export function canRun(info: NodeInfoBody, runtime: Runtime): boolean {
  if (!info.runtimes.includes(runtime)) return false;
  return runtime !== Runtimes.Docker || info.dockerHealthy !== false;
}
