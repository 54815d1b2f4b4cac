import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { ApiContext } from '../context.js';
import { checkId } from '../input.js';
import { deploymentViewOf } from '../views.js';
import type { Shape } from './types.js';
import { Deployment } from './types.js';

/** Stop, start and restart: run a deployment or not, as built, without a rebuild. */
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
}
