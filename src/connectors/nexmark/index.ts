//! Nexmark: the benchmark's event model, a deterministic generator and a parallel source.

export { NEXMARK_BASE_TIME, NEXMARK_DEFAULTS, resolveNexmarkConfig, type NexmarkConfig, type ResolvedNexmarkConfig } from './config.ts';
export {
  CHANNELS_NUMBER,
  FIRST_AUCTION_ID,
  FIRST_CATEGORY_ID,
  FIRST_PERSON_ID,
  HOT_BATCH,
  ID_LEAD,
  NUM_CATEGORIES,
  NexmarkGenerator,
  nexmarkEvent,
  nexmarkEvents,
  type NexmarkRange,
} from './generator.ts';
export { JavaRandom } from './java-random.ts';
export type { Auction, Bid, NexmarkEvent, NexmarkEventKind, Person } from './model.ts';
export {
  NexmarkReader,
  nexmarkDoneFilters,
  nexmarkSource,
  nexmarkSplit,
  type NexmarkDoneFilter,
  type NexmarkReaderState,
} from './source.ts';
