import { z } from 'zod';

// The registry is a SQLite file (the default, under the state folder) or a PostgreSQL database that several workers,
// servers and CLIs on different machines share. The password is never part of the config: the worker reads it from
// PGPASSWORD or from a file on its own disk, so no config file, workflow input, result or history holds one.

/** The registry's default SQLite file, relative to stateDir. */
export const DEFAULT_REGISTRY_FILE = 'registry.db';

const postgresUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a URL such as postgres://relearn@db.example:5432/relearn' });
    return;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    ctx.addIssue({ code: 'custom', message: `expected a postgres:// URL, got ${url.protocol}//` });
  } else if (url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'must not carry a password; the worker reads it from PGPASSWORD or registry.passwordFile' });
  } else if (url.hostname === '' || url.pathname.length <= 1) {
    ctx.addIssue({ code: 'custom', message: 'expected postgres://<user>@<host>:<port>/<database> with a host and a database' });
  }
});

/** `registry:` in temporal.yaml: `{ sqlite: <file> }` (default `registry.db`) or `{ postgres: <url>, passwordFile? }`. */
export const registrySchema = z
  .object({
    /** SQLite file, relative to stateDir. */
    sqlite: z.string().min(1).optional(),
    /** `postgres://user@host:port/database`, without a password. */
    postgres: postgresUrlSchema.optional(),
    /** PostgreSQL only: a file on the worker holding the password (relative to temporal.yaml's folder); else PGPASSWORD. */
    passwordFile: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.sqlite !== undefined && r.postgres !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['postgres'], message: 'give either sqlite or postgres, not both' });
    }
    if (r.passwordFile !== undefined && r.postgres === undefined) {
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'applies only to a postgres registry' });
    }
  })
  .prefault({});

/** The parsed `registry:` block; neither key means the default SQLite file. */
export type RegistryConfig = z.infer<typeof registrySchema>;
