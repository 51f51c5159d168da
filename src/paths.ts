import path from 'node:path';

/** Relearn's own install folder (where package.json, trainers/ and workflows/ live). */
export const RELEARN_ROOT = path.resolve(import.meta.dirname, '..');

/** The project's Python virtual environment, made by set-up. */
export const VENV_DIR = path.join(RELEARN_ROOT, '.relearn', 'venv');

/** The Python interpreter of the training environment. */
export const VENV_PYTHON = path.join(VENV_DIR, 'bin', 'python');

/** Where `go install` puts the Temporal CLI when PyPI's wheel is not available. */
export const LOCAL_BIN_DIR = path.join(RELEARN_ROOT, '.relearn', 'bin');
