/**
 * How much of a log written after a cursor a resume replays at most, in every runtime: a cursor
 * says exactly where the agent stopped, yet an outage of hours must not replay gigabytes. The
 * lines beyond it are counted (FollowLogsOptions.onSkipped), so the gap shows.
 */
export const MAX_LOG_RESUME_BYTES = 8 * 1024 * 1024;

/**
 * The most lines one read of a follow delivers before it asks `FollowLogsOptions.isFull` again:
 * a consumer that holds back at a fill level leaves this much room above it.
 */
export const MAX_LOG_READ_LINES = 5000;
