// Names of the non-retryable failure types, defined once: activities raise them (src/errors.ts), workflow code
// throws them as ApplicationFailure.nonRetryable(message, type), and the CLI and tests read them back.

/** Non-retryable failure types. */
export const FailureType = {
  Config: 'ConfigError',
  DataContract: 'DataContractError',
  DataSource: 'DataSourceError',
  JobParams: 'JobParamsError',
  JobContract: 'JobContractError',
  ModelRejected: 'ModelRejected',
  ArtifactIntegrity: 'ArtifactIntegrityError',
  /** The artifact store refused the worker: wrong credentials, missing bucket, wrong region. */
  StoreAccess: 'StoreAccessError',
  /** A search whose every trial failed. */
  SearchFailed: 'SearchFailed',
  /** The registry's database refused the credentials (wrong password or user). */
  RegistryCredentials: 'RegistryCredentialsError',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];
