import type { Route } from './route-table.js';

/** An answer the ingress gives itself, when it cannot or may not forward. */
export interface IngressAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (char) => `&#${String(char.charCodeAt(0))};`);
}

function page(status: number, title: string, lines: readonly string[], extraHeaders: Record<string, string> = {}): IngressAnswer {
  const body = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1>\n${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}\n</body></html>\n`;
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...extraHeaders }, body };
}

/** No deployment has this name. It lists no other name: who may see them is the API's business. */
export function unknownHostPage(host: string | undefined): IngressAnswer {
  const shown = host === undefined || host === '' ? 'no Host header' : `Host "${host.slice(0, 255)}"`;
  return page(404, 'No app here', [
    `This Kraken ingress has no app for ${shown}.`,
    'Ask for an app by its name: http://<name>.local, or any agent with the header "Host: <name>".',
  ]);
}

/** The deployment exists but no instance of it runs (building, moving, stopped, failed) or answers (hung). */
export function notRunningPage(route: Route): IngressAnswer {
  // stopped on request it stays down until someone starts it: no point in retrying within seconds
  // (the status is @kraken/messages' DeploymentStatus as text; the ingress does not depend on it)
  if (route.notAnswering !== undefined) {
    return page(503, `${route.name} is not answering`, [
      `Deployment ${route.deploymentId} (${route.name}) runs but does not answer: ${route.notAnswering}.`,
      'Requests go to it again as soon as it answers.',
    ], { 'retry-after': '5' });
  }
  if (route.status === 'Stopped') {
    return page(503, `${route.name} is stopped`, [
      `Deployment ${route.deploymentId} (${route.name}) was stopped on request: its status is ${route.status}.`,
      `It answers again once started (kraken start ${route.deploymentId}, or Start on its page).`,
    ]);
  }
  return page(503, `${route.name} is not running`, [`Deployment ${route.deploymentId} (${route.name}) has no running instance: its status is ${route.status}.`], {
    'retry-after': '2',
  });
}

/** The instance did not answer: refused, unreachable or too slow. */
export function upstreamFailedPage(route: Route, timedOut: boolean, why: string): IngressAnswer {
  const title = timedOut ? `${route.name} did not answer in time` : `${route.name} did not answer`;
  return page(timedOut ? 504 : 502, title, [`Deployment ${route.deploymentId} (${route.name}, status ${route.status}): ${why}.`], { 'retry-after': '2' });
}
