// What a job prints is untrusted and ends up in failure messages, which Temporal keeps in the run's history (shown in
// the Web UI to anyone with access to the namespace). A job that echoes a credential (its own, or one it found) must
// not publish it there: text from a job passes through scrubSecrets before it reaches a message.

/** What replaces a secret in scrubbed text. */
export const REDACTED = '[redacted]';

// Names that mark the value after them as a secret: `password=…`, `"api_key": "…"`, `AWS_SECRET_ACCESS_KEY=…`.
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)[A-Za-z0-9_.-]*`;

const PATTERNS: Array<[RegExp, string | ((...groups: string[]) => string)]> = [
  // PEM blocks (private keys, certificates with keys).
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // AWS access key ids (long-term AKIA…, temporary ASIA…).
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  // HTTP authorization values.
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  // Credentials inside URLs: scheme://user:password@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, (_m, head) => `${head}${REDACTED}@`],
  // name=value, name: value, "name": "value" where the name says secret.
  [
    new RegExp(String.raw`(${SECRET_NAME})(["']?\s*[=:]\s*)("[^"\n]*"|'[^'\n]*'|[^\s,;&}\]]+)`, 'gi'),
    (_m, name, sep, value) => `${name}${sep}${value.startsWith('"') || value.startsWith("'") ? `${value[0]}${REDACTED}${value[0]}` : REDACTED}`,
  ],
  // A long hex or base64 run shortly after the word key or secret (`secret is 9f86d081…`).
  [/\b(key|secret)\b([^\n]{0,24}?)[A-Za-z0-9+/_-]{20,}={0,2}/gi, (_m, word, gap) => `${word}${gap}${REDACTED}`],
];

/**
 * Replaces anything in `text` that looks like a secret with `[redacted]`: AWS key ids, bearer/basic tokens, URL
 * passwords, PEM private keys, values of `password=`/`token=`/`secret=`/`…key=` and long hex/base64 runs after the
 * words key or secret; and every value in `knownSecrets` (e.g. the worker's own credentials) wherever it appears.
 */
export function scrubSecrets(text: string, knownSecrets: Iterable<string> = []): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...new Set(knownSecrets)].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) {
    out = out.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  }
  return out;
}

/** Names of environment variables that hold credentials, by convention. */
const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|SESSION|COOKIE|PRIVATE/i;

/** The values of `env`'s variables whose names say they hold a credential: scrubbed literally wherever they appear. */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_ENV_NAME.test(name) && value !== undefined && value.length >= 6)
    .map(([, value]) => value!);
}

/** Cap on the job-written text (status.json's error, a log's end) a failure message quotes. */
const QUOTED_ERROR_MAX_CHARS = 2000;

/** Job-written text made fit for a failure message: secrets scrubbed, including the worker's own credentials. */
export function scrubJobText(text: string, maxChars = QUOTED_ERROR_MAX_CHARS): string {
  const scrubbed = scrubSecrets(text, secretValuesOf(process.env));
  return scrubbed.length > maxChars ? `…${scrubbed.slice(-maxChars)}` : scrubbed;
}
