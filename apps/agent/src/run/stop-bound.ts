/**
 * How long a graceful stop of `kraken agent` may take, from the first SIGTERM/SIGINT to exit 0:
 * the executors share STOP_BUDGET_MS (the worker first, handing back deploys in flight and ending
 * their test processes; then the API, orchestrator and store; the broker last), and the binary
 * exits anyway (code 1, saying so) at STOP_BOUND_MS should something hang. The systemd unit's
 * TimeoutStopSec leaves room above it, so systemd never has to SIGKILL a stopping agent.
 */
export const STOP_BUDGET_MS = 20_000;
/** See STOP_BUDGET_MS; the margin covers the executors stopped after the budget ran out. */
export const STOP_BOUND_MS = 30_000;
/** What an executor still gets once the budget is spent: the store's close (its WAL checkpoint) takes milliseconds. */
export const LATE_STOP_MS = 1_000;
