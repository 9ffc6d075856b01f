//! Connectors: built-in sources and sinks.

export { collectionSource, generatorSource, sequenceSource, splitRange, type GeneratorSourceOptions } from './sources.ts';
export { collectSink, fileSink, formatLine, printSink, type FileSinkOptions } from './sinks.ts';
export {
  exactlyOnceFileSink,
  ExactlyOnceFileSinkWriter,
  csvField,
  type ExactlyOnceFileSinkOptions,
  type CsvOptions,
  type FileSinkTransaction,
  type FileSinkContext,
} from './file-sink.ts';
export {
  TwoPhaseCommitSinkWriter,
  TWO_PHASE_COMMIT_STATE_VERSION,
  type TwoPhaseCommitState,
  type PendingTransaction,
  type SinkWriterSite,
} from './two-phase-commit.ts';
export { rangesFor, type IndexRange } from './sources.ts';
export {
  fileSource,
  fileSplitOwner,
  type CsvSourceOptions,
  type FileDeadLetter,
  type FileSourceOptions,
  type FileSourceState,
  type FileSplitState,
} from './file-source.ts';
export { parseCsvRecord, type CsvColumnType, type CsvParseResult } from './file-formats.ts';
export { SkippedRecordsLog, SKIPPED_RECORDS_LOG_DEFAULTS, type SkippedRecordsLogOptions } from './skipped-records-log.ts';
