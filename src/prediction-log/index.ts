/** The prediction log: its record format, the segment layout on disk, the writer serving uses, and the readers. */
export { entriesFromTable, entriesToTable } from './arrow-table';
export { findAnsweredRequests } from './answered';
export type { AnsweredElsewhere } from './answered';
export { joinFeedback } from './join-feedback';
export type { LabeledPrediction } from './join-feedback';
export { listSegments, utcDay } from './layout';
export type { ReadPredictionLogOptions } from './layout';
export { readPredictionLog, streamPredictionLog } from './reader';
export {
  LocalSegmentStore,
  S3SegmentStore,
  defaultReplicaId,
  describeLocation,
  openSegmentStore,
  segmentCacheStats,
  segmentEntries,
  setSegmentCacheBytes,
  sharedSegmentName,
} from './segment-store';
export type { PredictionLogLocation, SegmentRef, SegmentStore, SharedLogConfig } from './segment-store';
export { SERVER_REQUEST_ID_PREFIX, isServerRequestId, newServerRequestId } from './request-id';
export {
  PREDICTION_LOG_KINDS,
  classLabelSchema,
  describeLogField,
  errorLogEntry,
  loggedErrorSchema,
  loggedInputsSchema,
  loggedLabelsSchema,
  loggedOutputsSchema,
  parseLoggedError,
  parseLoggedInputs,
  parseLoggedLabels,
  parseLoggedOutputs,
  predictionLogRecordSchema,
  serializeError,
  serializeInputs,
  serializeLabels,
  serializeOutputs,
} from './record';
export type { ClassLabel, LoggedError, LoggedInputs, LoggedLabels, LoggedOutputs, PredictionLogEntry, PredictionLogKind } from './record';
export { PREDICTION_LOG_DEFAULTS, PredictionLogWriter } from './writer';
export type { DropReason, PredictionLogOptions } from './writer';
