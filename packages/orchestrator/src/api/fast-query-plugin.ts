import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { queryPlanFor, runQueryPlan } from './fast-query.js';

/**
 * Answers queries the fast path understands (see fast-query.ts) before Apollo executes them with
 * graphql-js; for anything else, or when the fast path gives up, Apollo executes as usual.
 * `responseForOperation` runs after parsing and validation (both cached per query text), so the
 * depth and size limits still apply.
 */
export function fastQueryPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        async responseForOperation(requestContext) {
          const { schema, document, request, contextValue } = requestContext;
          const plan = queryPlanFor(schema, document, request.operationName);
          if (plan === null) return null;
          const data = await runQueryPlan({ schema, plan, contextValue, variables: request.variables });
          return data === undefined
            ? null
            : { http: { headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data } } };
        },
      });
    },
  };
}
