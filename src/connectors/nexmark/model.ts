//! The Nexmark event types: Person, Auction and Bid, as one flat tagged union keyed by `kind`.

/** A new person registers (Nexmark `Person`); timestamps are ms since the epoch. */
export interface Person {
  readonly kind: 'person';
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
  extra: string;
}

/** A person opens an auction (Nexmark `Auction`); prices are in cents. */
export interface Auction {
  readonly kind: 'auction';
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

/** A bid on an auction (Nexmark `Bid`, with Flink Nexmark's `channel` and `url`). */
export interface Bid {
  readonly kind: 'bid';
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

/**
 * One Nexmark event. The record itself carries its `kind`, so `e.kind === 'bid'` narrows `e` to a
 * {@link Bid} and a filtered stream is keyed directly (`keyBy((b) => b.auction)`); each kind has
 * one fixed shape, which keeps msgpack records and V8 hidden classes to three.
 */
export type NexmarkEvent = Person | Auction | Bid;

/** The kinds of {@link NexmarkEvent}. */
export type NexmarkEventKind = NexmarkEvent['kind'];
