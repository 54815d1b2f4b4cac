import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { ApiContext } from '../context.js';
import { checkId, checkIntRange } from '../input.js';
import { ReleaseResult } from '../../releases/release-record.js';
import { rollbackCommits } from '../../releases/rollback.js';
import { releaseView } from '../release-views.js';
import { logPageView, MAX_LOG_PAGE } from '../views.js';
import { Release } from './release-types.js';
import type { Shape } from './types.js';
import { LogPage } from './types.js';

@Resolver(() => Release)
export class ReleaseResolver {
  @Query(() => [Release], { description: "A deployment's releases (builds), oldest first; NOT_FOUND for an unknown id." })
  getReleases(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Shape<Release>[] {
    const { releases } = context.orchestrator;
    const now = Date.now();
    const list = releases.list(checkId('deploymentId', deploymentId));
    const targets = new Set(rollbackCommits(context.store.deployments.require(deploymentId), list));
    // one target per commit: its newest successful release (a settings change repeats a commit)
    const targetReleases = new Set<number>();
    for (const release of [...list].reverse()) {
      if (release.result !== ReleaseResult.Succeeded || release.commit === null || !targets.has(release.commit)) continue;
      targets.delete(release.commit);
      targetReleases.add(release.number);
    }
    return list.map((release) => releaseView(release, releases.timeline(release), now, targetReleases.has(release.number)));
  }

  @FieldResolver(() => LogPage, { description: "The release's own log lines with seq > after, oldest first (paged like `logs`)." })
  logs(
    @Root() release: Shape<Release>,
    @Arg('after', () => Int, { defaultValue: 0 }) after: number,
    @Arg('limit', () => Int, { defaultValue: 500 }) limit: number,
    @Ctx() context: ApiContext,
  ): Shape<LogPage> {
    checkIntRange('after', after, 0, Number.MAX_SAFE_INTEGER);
    checkIntRange('limit', limit, 1, MAX_LOG_PAGE);
    return logPageView(context.store, release.deploymentId, { after, limit, release: release.number });
  }
}
