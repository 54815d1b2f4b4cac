import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A failed deploy, a moved app or a dead node, as the orchestrator raised it.', simpleResolvers: true })
export class Notification {
  @Field(() => String, { description: 'Unique; the webhook sends the same id.' })
  id!: string;

  @Field(() => String, { description: 'deploy-failed, app-moved or node-dead.' })
  kind!: string;

  @Field(() => String, { description: 'What happened, to what, and why, in one sentence.' })
  message!: string;

  @Field(() => String, { nullable: true })
  deploymentId!: string | null;

  @Field(() => String, { nullable: true, description: 'The node that died, the one a deploy failed on, or the one an app moved away from.' })
  nodeId!: string | null;

  @Field(() => String, { nullable: true, description: 'Where a moved app went; null while it waits for a node.' })
  toNodeId!: string | null;

  @Field(() => Float, { description: 'When, in Unix seconds (with milliseconds).' })
  time!: number;
}
