import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ReleaseResult } from '../../releases/release-record.js';
import { StatusHistoryItem } from './types.js';

const ReleaseResultEnum = {
  BUILDING: ReleaseResult.Building,
  SUCCEEDED: ReleaseResult.Succeeded,
  FAILED: ReleaseResult.Failed,
  SUPERSEDED: ReleaseResult.Superseded,
  CANCELLED: ReleaseResult.Cancelled,
} as const;
registerEnumType(ReleaseResultEnum, {
  name: 'ReleaseResult',
  description:
    'BUILDING until it runs; SUCCEEDED once it ran (kept when newer releases replace it); FAILED when it ended ERRORED before running; ' +
    'SUPERSEDED when a newer release started first; CANCELLED when the deployment was destroyed first.',
});

@ObjectType({
  description:
    'One build of a deployment: what caused it, how it ended, and the statuses and log lines recorded while it was current. ' +
    'A move to another node is not a release: it places the current one again.',
})
export class Release {
  @Field(() => String)
  deploymentId!: string;

  @Field(() => Int, { description: '1, 2, 3 per deployment, in the order they started.' })
  number!: number;

  @Field(() => String, { nullable: true, description: 'The commit built; null until the node resolved the branch head.' })
  commit!: string | null;

  @Field(() => String, { description: 'What caused it: "deploy by API", "redeploy", "new commit on branch (watch)", ...' })
  trigger!: string;

  @Field(() => Float, { description: 'When it started, in Unix seconds (with milliseconds).' })
  startedAt!: number;

  @Field(() => Float, { nullable: true, description: 'When it got its result, in Unix seconds; null while BUILDING.' })
  endedAt!: number | null;

  @Field(() => Float, { description: 'How long it took, or has taken so far while BUILDING, in milliseconds.' })
  durationMs!: number;

  @Field(() => ReleaseResultEnum)
  result!: ReleaseResult;

  @Field(() => String, { nullable: true, description: 'Why it FAILED, or what SUPERSEDED it.' })
  reason!: string | null;

  @Field(() => [StatusHistoryItem], { description: 'The statuses recorded while it was current, oldest first.' })
  timeline!: StatusHistoryItem[];

  @Field(() => Boolean, {
    description:
      "Whether rollbackDeployment can run this release's commit now: the deployment is RUNNING and the commit is one of the last three successful ones " +
      '(whose builds its node keeps) other than the running one. Set on the newest successful release of each such commit.',
  })
  rollbackTarget!: boolean;
}
