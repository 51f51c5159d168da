import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type FailureTypeName } from './contracts';

// The names live in src/contracts, where workflow code may import them too.
export { FailureType, type FailureTypeName };

/** A user-facing error that is never worth retrying; `type` is one of FailureType. */
export class RelearnError extends Error {
  constructor(
    readonly type: FailureTypeName,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** Config errors carry the path in the file (for example `models.flights.gate.minimums.f1`). */
export class ConfigError extends RelearnError {
  constructor(message: string) {
    super(FailureType.Config, message);
  }
}

/** A data-contract violation: names the source file and the column. */
export class DataContractError extends RelearnError {
  constructor(message: string) {
    super(FailureType.DataContract, message);
  }
}

/** A data source that cannot be read (missing file, unreadable format). */
export class DataSourceError extends RelearnError {
  constructor(message: string) {
    super(FailureType.DataSource, message);
  }
}

/** A training job rejected its params (exit code 2). */
export class JobParamsError extends RelearnError {
  constructor(message: string) {
    super(FailureType.JobParams, message);
  }
}

/** A training job broke the job contract (missing or malformed outputs). */
export class JobContractError extends RelearnError {
  constructor(message: string) {
    super(FailureType.JobContract, message);
  }
}

/** A model file failed a safety or quality check (corrupt, too large, parity off). */
export class ModelRejectedError extends RelearnError {
  constructor(message: string) {
    super(FailureType.ModelRejected, message);
  }
}

/** A stored artifact whose bytes no longer match the SHA-256 recorded for it. */
export class ArtifactIntegrityError extends RelearnError {
  constructor(message: string) {
    super(FailureType.ArtifactIntegrity, message);
  }
}

/** The registry's database refused the credentials: retrying with the same password cannot help. */
export class RegistryCredentialsError extends RelearnError {
  constructor(message: string) {
    super(FailureType.RegistryCredentials, message);
  }
}

/** The artifact store refused access (wrong credentials, missing bucket): retrying cannot help. */
export class StoreAccessError extends RelearnError {
  constructor(message: string) {
    super(FailureType.StoreAccess, message);
  }
}

/** Turns a RelearnError into a non-retryable ApplicationFailure; anything else is rethrown (retryable). */
export function toActivityFailure(err: unknown): never {
  if (err instanceof RelearnError) {
    throw ApplicationFailure.nonRetryable(err.message, err.type);
  }
  throw err;
}

/** Runs `fn` and converts RelearnErrors into non-retryable failures, for activity bodies. */
export async function failFast<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return toActivityFailure(err);
  }
}
