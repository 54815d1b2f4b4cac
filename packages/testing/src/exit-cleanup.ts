const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // a last resort: the others still run
    }
  }
  cleanups.clear();
}

/**
 * Last-resort cleanup for what a test or bench made on the machine (namespaces, engines, mounts):
 * `cleanup` runs synchronously when the process exits, or on SIGINT, SIGTERM or SIGHUP, unless the
 * returned function was called first (the owner cleaned up properly). After a signal the default
 * action (exit) follows unless the process has a handler of its own for it, which then decides.
 */
export function onExitCleanup(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        runAll();
        // we replaced the default action; restore it unless someone else handles the signal
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
