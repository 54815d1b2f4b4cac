import http from 'node:http';

/**
 * One readiness attempt: an HTTP GET to 127.0.0.1:<port><path>. Any response below 500 counts as
 * ready: the app is serving, and a 404 or 401 on its endpoint is the app's answer, not a failure
 * to start. A connection that is refused or closed without a response is "not yet": Docker's port
 * proxy accepts TCP connections before the app listens, so a TCP connect alone proves nothing.
 */
export function probeHttp(port: number, endpoint: string, timeoutMs: number): Promise<{ ready: boolean; status?: number; reason?: string }> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: endpoint, timeout: timeoutMs, headers: { 'user-agent': 'kraken-ready-check' } }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(status < 500 ? { ready: true, status } : { ready: false, status, reason: `HTTP ${status}` });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => {
      resolve({ ready: false, reason: error.message });
    });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
