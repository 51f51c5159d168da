// A training job is code the model's owner wrote; it gets an allow-list environment, never the worker's whole one
// (which holds the Temporal API key, the serving token, cloud credentials).

/** Variables passed through from the worker when set: the search path, locale, temp folder and Python's own. */
const PASSED_THROUGH = ['PATH', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'VIRTUAL_ENV', 'PYTHONHOME', 'PYTHONPATH'];
const PASSED_THROUGH_PREFIXES = ['LC_'];
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Thread-pool sizes of the numeric libraries a scikit-learn job loads (OpenMP, OpenBLAS, MKL, numexpr). */
const THREAD_VARIABLES = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMEXPR_NUM_THREADS'];

/** What a job's environment is made of. */
export interface JobEnvOptions {
  /** The worker's environment, of which only the allow-listed variables pass. */
  workerEnv: Readonly<Record<string, string | undefined>>;
  /** The job's own HOME: a folder of its run, so nothing it caches lands in the worker's home. */
  home: string;
  /**
   * Threads each numeric library may use. 1 by default: two jobs at once on 2 cores otherwise start a thread per core
   * each, and a hist_gradient_boosting fit went from 3.6 s to 48 s.
   */
  threads?: number;
  /** Names of worker variables the job gets as they are (`trainer.passEnv`: a store credential it needs). */
  passEnv?: readonly string[];
  /** The job's own variables (`trainer.env`); they win over everything above. */
  env?: Readonly<Record<string, string>>;
}

/** The environment a job runs with: allow-listed worker variables, its HOME, thread limits, passed and own variables. */
export function jobEnvironment(opts: JobEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.workerEnv)) {
    if (value === undefined) continue;
    if (PASSED_THROUGH.includes(name) || PASSED_THROUGH_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME = opts.home;
  for (const name of THREAD_VARIABLES) env[name] = String(opts.threads ?? 1);
  for (const name of opts.passEnv ?? []) {
    const value = opts.workerEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...opts.env };
}
