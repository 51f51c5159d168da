import { realpathSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';

/** Resolves symlinks in the longest existing prefix of `p` (the rest may not exist yet) and normalises the result. */
export function realPathOf(p: string): string {
  const absolute = path.resolve(p);
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(realpathSync(current), ...rest.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * Returns the real path of `p` when it lies inside `root` after normalisation and symlink resolution, else null.
 * A source path is the one thing in temporal.yaml that makes a worker read a file, so it is kept to one folder.
 */
export function insideDataRoot(root: string, p: string): string | null {
  const realRoot = realPathOf(root);
  const real = realPathOf(p);
  const relative = path.relative(realRoot, real);
  if (relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))) return real;
  return null;
}

/** The one-line reason a source path is refused; `where` names the file and key, e.g. `temporal.yaml: models.m.source.path`. */
export function outsideDataRootMessage(where: string, root: string, p: string): string {
  const real = realPathOf(p);
  const via = real === path.resolve(p) ? '' : ` (it resolves to '${real}')`;
  return `${where}: '${p}'${via} is outside the data root '${root}'; move the data under it or set dataRoot in temporal.yaml`;
}

/** Characters DuckDB reads as a pattern in a file path (`read_csv('data/*.csv')` reads every match). */
const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * Resolves a source path, checks that it lies inside the data root and names no pattern, and returns the real path:
 * the one to open, so the file checked is the file read (a symlink changed after the check is not followed again).
 * `where` names the file and key for the ConfigError.
 */
export function confineSourcePath(where: string, root: string, p: string): string {
  const refuseGlob = (named: string) =>
    new ConfigError(
      `${where}: '${named}' contains a glob character (one of * ? [ ] { }); a source names one file, and DuckDB would read every file the pattern matches — rename the file`,
    );
  if (GLOB_CHARACTERS.test(p)) throw refuseGlob(p);
  const real = insideDataRoot(root, p);
  if (real === null) throw new ConfigError(outsideDataRootMessage(where, root, p));
  if (GLOB_CHARACTERS.test(real)) throw refuseGlob(real);
  return real;
}
