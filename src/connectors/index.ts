//! Connectors: built-in sources and sinks.

export { collectionSource, generatorSource, sequenceSource, splitRange, type GeneratorSourceOptions } from './sources.ts';
export { collectSink, fileSink, formatLine, printSink, type FileSinkOptions } from './sinks.ts';
