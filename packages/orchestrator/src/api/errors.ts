import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { ErrorCode, isKrakenError, redactCredentials } from '@kraken/common';
import type { Logger } from '@kraken/common';

// Apollo's and graphql-js's own codes, in the Kraken vocabulary clients branch on.
const fromApolloCode: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: ErrorCode.InvalidInput,
  GRAPHQL_VALIDATION_FAILED: ErrorCode.InvalidInput,
  BAD_USER_INPUT: ErrorCode.InvalidInput,
  BAD_REQUEST: ErrorCode.InvalidInput,
  OPERATION_RESOLUTION_FAILURE: ErrorCode.InvalidInput,
  INTERNAL_SERVER_ERROR: ErrorCode.Internal,
};

/** Walks `originalError` links (Apollo and graphql-js each wrap) down to what a resolver threw. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 5 && typeof current === 'object' && current !== null && 'originalError' in current; i++) {
    const next = (current as { originalError?: unknown }).originalError;
    if (next === undefined || next === null) break;
    current = next;
  }
  return current;
}

/**
 * Every GraphQL error leaves with `extensions.code` from ErrorCode and, for Kraken errors, the
 * subject's id and details; no stack traces. Internal errors are logged with their cause.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const answer = formatCause(formatted, error, logger);
  // an error may quote the git URL it was about, with the credentials in it
  return { ...answer, message: redactCredentials(answer.message) };
}

function formatCause(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const cause = rootCause(error);
  const { krakenCode, stacktrace: _stacktrace, code, ...rest } = (formatted.extensions ?? {}) as Record<string, unknown>;
  if (isKrakenError(cause)) {
    if (cause.code === ErrorCode.Internal) logger.error('GraphQL request failed', { error: cause });
    return {
      ...formatted,
      message: cause.message,
      extensions: {
        ...rest,
        code: cause.code,
        ...(cause.deploymentId === undefined ? {} : { deploymentId: cause.deploymentId }),
        ...(cause.nodeId === undefined ? {} : { nodeId: cause.nodeId }),
        ...(cause.details === undefined ? {} : { details: cause.details }),
      },
    };
  }
  const mapped =
    typeof krakenCode === 'string'
      ? krakenCode
      : typeof code === 'string'
        ? (fromApolloCode[code] ?? code)
        : // graphql-js's own errors (parse, validation, variables) wrap nothing
          cause instanceof GraphQLError
          ? ErrorCode.InvalidInput
          : ErrorCode.Internal;
  if (mapped === ErrorCode.Internal) logger.error('GraphQL request failed', { message: formatted.message, error: cause });
  return { ...formatted, extensions: { ...rest, code: mapped } };
}
