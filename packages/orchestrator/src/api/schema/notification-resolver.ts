import { Arg, Ctx, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Notification as Raised } from '../../notifications/notification.js';
import type { ApiContext } from '../context.js';
import { checkIntRange } from '../input.js';
import { Notification } from './notification-types.js';
import type { Shape } from './types.js';

function notificationView(notification: Raised): Shape<Notification> {
  return {
    id: notification.id,
    kind: notification.kind,
    message: notification.message,
    deploymentId: notification.deploymentId ?? null,
    nodeId: notification.nodeId ?? null,
    toNodeId: notification.toNodeId ?? null,
    time: Date.parse(notification.at) / 1000,
  };
}

@Resolver(() => Notification)
export class NotificationResolver {
  @Query(() => [Notification], {
    description:
      "The last notifications of the current leader's term, newest first (kept in its memory: a new leader starts with none).",
  })
  notifications(@Arg('limit', () => Int, { defaultValue: 50 }) limit: number, @Ctx() context: ApiContext): Shape<Notification>[] {
    checkIntRange('limit', limit, 1, 1000);
    return context.orchestrator.notifications.recent(limit).map(notificationView);
  }

  @Subscription(() => Notification, {
    description: 'Each notification once, as it is raised.',
    subscribe: ({ context }) => (context as ApiContext).pubSub.subscribe('notificationRaised'),
  })
  notificationRaised(@Root() notification: Raised): Shape<Notification> {
    return notificationView(notification);
  }
}
