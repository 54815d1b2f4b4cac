import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { ApiContext } from '../context.js';
import { checkId } from '../input.js';
import { deploymentViewOf } from '../views.js';
import type { Shape } from './types.js';
import { Deployment } from './types.js';

/** Stop, start, restart and roll back: run a deployment or not, as built, without a rebuild. */
@Resolver(() => Deployment)
export class LifecycleResolver {
  @Mutation(() => Deployment, {
    description:
      'Stops a RUNNING deployment without destroying it: it keeps its node, image or built folder, name, port and log, and becomes STOPPED ' +
      '(failover leaves it stopped). CONFLICT when it is not RUNNING (already STOPPED, deploying, destroyed, errored); NOT_FOUND for an unknown id.',
  })
  async stopDeployment(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Promise<Shape<Deployment>> {
    return deploymentViewOf(context.store, await context.orchestrator.stopDeployment(checkId('deploymentId', deploymentId)));
  }

  @Mutation(() => Deployment, {
    description:
      'Runs a STOPPED deployment again on its node from what was built, with no build and no test; it goes through DEPLOYING to RUNNING. ' +
      'CONFLICT when it is not STOPPED (already RUNNING: restart it instead); UNAVAILABLE while its node is down.',
  })
  async startDeployment(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Promise<Shape<Deployment>> {
    return deploymentViewOf(context.store, await context.orchestrator.startDeployment(checkId('deploymentId', deploymentId)));
  }

  @Mutation(() => Deployment, {
    description:
      'Stops and starts a RUNNING deployment in place (a STOPPED one just starts), with no build; it goes through DEPLOYING to RUNNING. ' +
      'CONFLICT for any other status; UNAVAILABLE while its node is down.',
  })
  async restartDeployment(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Promise<Shape<Deployment>> {
    return deploymentViewOf(context.store, await context.orchestrator.restartDeployment(checkId('deploymentId', deploymentId)));
  }

  @Mutation(() => Deployment, {
    description:
      'Runs an earlier successful release of a RUNNING deployment again, as a new release ("rollback to <commit>"): its node keeps the builds of the last three ' +
      'successful releases and swaps to the kept one with no clone, build or test (a node that no longer has it builds that commit). `commit` (4-64 hex digits) ' +
      'picks one of the kept versions; default: the newest before the running one. CONFLICT when it is not RUNNING, has no earlier successful release or already ' +
      'runs that commit; NOT_FOUND for an unknown id or a commit that is not kept.',
  })
  async rollbackDeployment(
    @Arg('deploymentId', () => String) deploymentId: string,
    @Arg('commit', () => String, { nullable: true }) commit: string | null | undefined,
    @Ctx() context: ApiContext,
  ): Promise<Shape<Deployment>> {
    return deploymentViewOf(context.store, await context.orchestrator.rollback(checkId('deploymentId', deploymentId), commit ?? undefined));
  }
}
