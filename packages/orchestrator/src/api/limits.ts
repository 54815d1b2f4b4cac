import type { ASTNode, FragmentDefinitionNode, SelectionSetNode, ValidationContext, ValidationRule } from 'graphql';
import { GraphQLError, Kind } from 'graphql';
import { ErrorCode } from '@kraken/common';

export interface QueryLimits {
  /** Nesting of selections below an operation's root fields (introspection fields not counted). @default 10 */
  maxDepth: number;
  /** Fields selected in one document, fragments counted once per use. @default 500 */
  maxFields: number;
  /** Request body size (HTTP) and message size (WebSocket). @default 100 KB */
  maxBodyBytes: number;
}

export const defaultQueryLimits: QueryLimits = { maxDepth: 10, maxFields: 500, maxBodyBytes: 100 * 1024 };

function limitError(message: string, nodes: ASTNode, limit: string, max: number): GraphQLError {
  return new GraphQLError(message, { nodes, extensions: { krakenCode: ErrorCode.PayloadTooLarge, limit, max } });
}

/**
 * Rejects documents nested deeper than `maxDepth` or selecting more than `maxFields` fields, before
 * anything resolves: a cheap guard against queries that would make the server walk the whole
 * state many times over. Fragment spreads are followed (a fragment used twice counts twice).
 */
export function queryLimitRules(limits: Pick<QueryLimits, 'maxDepth' | 'maxFields'>): ValidationRule[] {
  const rule: ValidationRule = (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    let fields = 0;
    let reportedFields = false;

    /** Deepest field nesting in `set`; stops early once over the limit. */
    const depthOf = (set: SelectionSetNode, depth: number, visiting: Set<string>): number => {
      let deepest = depth;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value.startsWith('__')) continue;
          fields += 1;
          const below = selection.selectionSet === undefined ? depth + 1 : depthOf(selection.selectionSet, depth + 1, visiting);
          deepest = Math.max(deepest, below);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, depth, visiting));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // unknown or cyclic fragments are reported by graphql's own rules
          if (fragment === undefined || visiting.has(name)) continue;
          visiting.add(name);
          deepest = Math.max(deepest, depthOf(fragment.selectionSet, depth, visiting));
          visiting.delete(name);
        }
        if (deepest > limits.maxDepth || fields > limits.maxFields) return deepest;
      }
      return deepest;
    };

    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, 0, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            limitError(
              `query is nested deeper than ${limits.maxDepth} levels, the most allowed`,
              operation,
              'depth',
              limits.maxDepth,
            ),
          );
        }
        if (fields > limits.maxFields && !reportedFields) {
          reportedFields = true;
          context.reportError(
            limitError(
              `query selects more than ${limits.maxFields} fields; at most ${limits.maxFields} are allowed`,
              operation,
              'fields',
              limits.maxFields,
            ),
          );
        }
      },
    };
  };
  return [rule];
}
