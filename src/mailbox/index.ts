//! The mailbox layer: bounded input queues, channel writers with credit-based flow control, and their transports.

export { BoundedMailbox, type InputChannelEndpoint, type MailboxEntry, type MailboxState, type PolledBatch } from './bounded-mailbox.ts';
export { ChannelWriter, type BatchTransport, type ChannelWriterConfig, type ChannelWriterOwner } from './channel-writer.ts';
export { LocalChannel, PortReceiver, PortSender } from './transports.ts';
