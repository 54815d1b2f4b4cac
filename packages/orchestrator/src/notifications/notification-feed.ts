import { randomUUID } from 'node:crypto';
import type { Clock } from '@kraken/common';
import { TypedEmitter, isoTime, redactCredentials, systemClock } from '@kraken/common';
import type { Notification, NotificationDraft } from './notification.js';

/** Notifications the feed keeps for `recent()`. */
const DEFAULT_NOTIFICATIONS_KEPT = 100;

export type NotificationFeedEvents = {
  /** Each notification once, as it is raised. */
  raised: [notification: Notification];
};

export interface NotificationFeedOptions {
  /** @default DEFAULT_NOTIFICATIONS_KEPT */
  keep?: number;
  /** @default the system clock */
  clock?: Clock;
}

/**
 * The last notifications of this orchestrator's term, newest last, and an event per new one. Kept
 * in memory only: a restarted or new leader starts with an empty list (what happened is still in
 * each deployment's status history and the logs); the webhook is what outlives the page.
 */
export class NotificationFeed extends TypedEmitter<NotificationFeedEvents> {
  private readonly kept: Notification[] = [];
  private readonly keep: number;
  private readonly clock: Clock;

  constructor(options: NotificationFeedOptions = {}) {
    super();
    const keep = options.keep ?? DEFAULT_NOTIFICATIONS_KEPT;
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep: expected a positive integer, got ${String(keep)}`);
    this.keep = keep;
    this.clock = options.clock ?? systemClock;
  }

  /** Stamps, keeps (dropping the oldest past the bound) and announces a notification. */
  raise(draft: NotificationDraft): Notification {
    // a reason can quote a git URL with its token in it (a failed clone): never pass that on
    const notification: Notification = {
      ...draft,
      message: redactCredentials(draft.message),
      id: randomUUID(),
      at: isoTime(this.clock),
    };
    this.kept.push(notification);
    if (this.kept.length > this.keep) this.kept.splice(0, this.kept.length - this.keep);
    this.emit('raised', notification);
    return notification;
  }

  /** The last `limit` notifications, newest first. */
  recent(limit = this.keep): Notification[] {
    return limit < 1 ? [] : this.kept.slice(-limit).reverse();
  }
}
