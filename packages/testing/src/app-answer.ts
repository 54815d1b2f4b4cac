/**
 * What the app on 127.0.0.1:`port` answers to a GET of `path` (its body, whatever the status), or
 * undefined when nothing answers: the port refuses, the connection drops, or no answer comes within
 * `timeoutMs`. For tests that ask whether an app is up, and which version serves.
 */
export async function appAnswer(port: number, path = '/', timeoutMs = 10_000): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${String(port)}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return await response.text();
  } catch {
    return undefined;
  }
}
