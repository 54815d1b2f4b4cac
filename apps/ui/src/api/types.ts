// Short names for the generated selection types (generated.ts, from operations.graphql).
import type { DeploymentFieldsFragment, LogLinesSubscription, NodeFieldsFragment, NotificationFieldsFragment, ReleasesQuery } from './generated.js';
import { ApplicationStatus } from './generated.js';

export type { ApplicationStatus, EnvVarInput, NodeState, ReleaseResult } from './generated.js';
export type { TypedDocumentString as Operation } from './generated.js';

export type Deployment = DeploymentFieldsFragment;
export type ClusterNode = NodeFieldsFragment;
export type LogLine = LogLinesSubscription['logLines'][number];
export type ClusterNotification = NotificationFieldsFragment;
export type Release = ReleasesQuery['getReleases'][number];

/** Every status, in lifecycle order (the schema's order), ERRORED last. */
export const applicationStatuses: readonly ApplicationStatus[] = Object.values(ApplicationStatus);
