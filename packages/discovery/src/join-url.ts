import { ErrorCode, KrakenError } from '@kraken/common';
import type { Candidate } from './candidate.js';
import { joinCandidate } from './candidate.js';

export interface ParseJoinUrlOptions {
  /** Port when the URL names none (the agent's default API port). Without it, a URL without a port is refused. */
  defaultPort?: number | undefined;
  /** Names the setting in errors. @default '--join' */
  field?: string | undefined;
}

function invalid(field: string, input: string, problem: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `${field}: ${JSON.stringify(input)} ${problem}`, { details: { field } });
}

/**
 * Checks an explicit `--join URL` (the orchestrator's API: http or https, a host, a port) and turns
 * it into a candidate. The URL is the API root, so a path, query or credentials are refused rather
 * than silently dropped.
 */
export function parseJoinUrl(input: string, options: ParseJoinUrlOptions = {}): Candidate {
  const field = options.field ?? '--join';
  const text = input.trim();
  if (text === '') throw invalid(field, input, 'is empty: expected the orchestrator API, such as http://10.0.0.5:4000');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw invalid(field, input, 'has no scheme: expected http:// or https:// in front, such as http://10.0.0.5:4000');
  // URL drops a port equal to the scheme's default and refuses one above 65535 as "invalid URL",
  // so whether (and which) port was written is read from the text
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1];
  const written =
    authority === undefined ? undefined : /:(\d*)$/.exec(authority.replace(/^.*@/, '').replace(/^\[[^\]]*\]/, ''))?.[1];
  if (written !== undefined && (written === '' || Number(written) < 1 || Number(written) > 65_535)) {
    throw invalid(field, input, 'has an invalid port: expected 1 to 65535');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(field, input, 'is not a URL: expected the orchestrator API, such as http://10.0.0.5:4000');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(
      field,
      input,
      `has scheme ${url.protocol.replace(/:$/, '')}: expected http or https, such as http://10.0.0.5:4000`,
    );
  }
  if (url.hostname === '') throw invalid(field, input, 'has no host: expected such as http://10.0.0.5:4000');
  if (url.username !== '' || url.password !== '')
    throw invalid(field, input, 'carries credentials: give the join token separately (--join-token), not in the URL');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    throw invalid(field, input, 'has a path, query or fragment: give only scheme, host and port');
  const port = written === undefined ? options.defaultPort : Number(written);
  if (port === undefined) throw invalid(field, input, 'has no port: add the API port, such as http://10.0.0.5:4000');
  return joinCandidate(`${url.protocol}//${url.hostname}:${port}`);
}
