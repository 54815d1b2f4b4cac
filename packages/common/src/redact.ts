/**
 * `scheme://user:password@` and `scheme://token@` in any text: git URLs carry credentials that way
 * (`https://x-access-token:TOKEN@github.com/...`, `https://TOKEN@host/...`), as do broker URLs.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi;

/**
 * The text with the credentials of every URL in it hidden: a password becomes `***` (the user name
 * stays, it says which account); a user part alone is often a token, so it becomes `***`. For what
 * the API shows, exports and logs: the stored URL keeps them, since cloning needs them.
 */
export function redactCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, (_match, scheme: string, user: string, password: string | undefined) =>
    password === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
  );
}
