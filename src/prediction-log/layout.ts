// Where the log's segment files live: `<dir>/<model>/<YYYY-MM-DD>/<HHmmssSSS>-<pid>-<seq>.arrow`, one folder per
// model and UTC day of the records, one file per flush of one writer. A file is named after the time of its first
// record, so sorting names sorts a day's files oldest first; a file being written is a hidden `.…tmp` until renamed.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { PredictionLogLocation } from './segment-store';

const DAY_FOLDER = /^\d{4}-\d{2}-\d{2}$/;
const SEGMENT_EXTENSION = '.arrow';

/** Which part of the log to read; days are UTC `YYYY-MM-DD`, both ends inclusive. */
export interface ReadPredictionLogOptions {
  /** Folder of the log (`<stateDir>/predictions`), or a shared log's `s3://` prefix (docs/scaling.md). */
  dir: PredictionLogLocation;
  model: string;
  fromDay?: string;
  toDay?: string;
  /**
   * Records from this time (ms) on matter: a shared segment whose records all came before it is not read (its key
   * names its records' time span). Local segments are chosen by day only.
   */
  fromMs?: number;
  /** Records before this time (ms) matter: a shared segment whose first record is at or after it is not read. */
  toMs?: number;
}

/** The UTC day `YYYY-MM-DD` of a time: the day folder its records go to. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The folder of one model's records of one UTC day. */
export function dayFolder(dir: string, model: string, day: string): string {
  return path.join(dir, model, day);
}

/** A segment's file name: the UTC time of its first record, the writer's pid and the writer's sequence number. */
export function segmentFileName(firstAt: Date, pid: number, seq: number): string {
  const stamp = firstAt.toISOString().slice(11, 23).replace(/[:.]/g, '');
  return `${stamp}-${pid}-${String(seq).padStart(6, '0')}${SEGMENT_EXTENSION}`;
}

/** The hidden name a segment is written under before it is renamed into place; `suffix` keeps writers apart. */
export function tempSegmentName(name: string, suffix: string): string {
  return `.${name}.${suffix}.tmp`;
}

/** Whether a file in a day folder is a finished segment (not a temp file or anything else). */
export function isSegmentFile(name: string): boolean {
  return name.endsWith(SEGMENT_EXTENSION) && !name.startsWith('.');
}

/** The paths of a model's finished segments in the day range, oldest first; none when the model has no log. */
export async function listSegments(options: Omit<ReadPredictionLogOptions, 'dir'> & { dir: string }): Promise<string[]> {
  const modelDir = path.join(options.dir, options.model);
  let days: string[];
  try {
    days = (await readdir(modelDir)).filter((d) => DAY_FOLDER.test(d)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const segments: string[] = [];
  for (const day of days) {
    if (options.fromDay !== undefined && day < options.fromDay) continue;
    if (options.toDay !== undefined && day > options.toDay) continue;
    const folder = dayFolder(options.dir, options.model, day);
    const files = (await readdir(folder)).filter(isSegmentFile).sort();
    for (const file of files) segments.push(path.join(folder, file));
  }
  return segments;
}
