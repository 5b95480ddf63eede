import type { Logger } from 'pino';
import type { Executor } from './db/executor.ts';
import type { GroupCommit } from '../db/groupCommit.ts';
import type { Dispatcher } from './dispatch/dispatcher.ts';
import type { InsertOutcome, NewMessage } from './messages/insertMessage.ts';
import type { StoredMessage } from './messages/messageModel.ts';

export interface SigningKeys {
  current: string;
  next: string;
}

/** What every handler and service of one running broker shares. */
export interface BrokerContext {
  db: Executor;
  now(): number;
  logger: Logger;
  dispatcher: Dispatcher;
  keys: SigningKeys;
  token: string;
  maxBodyBytes: number;
  /** Publishes being accepted: one multi-row statement (one commit) for all that arrive together. */
  accept: GroupCommit<NewMessage[], InsertOutcome[]>;
}

/** Hands freshly committed messages to the dispatcher. */
export function dispatchCreated(ctx: Pick<BrokerContext, 'dispatcher'>, messages: readonly StoredMessage[]): void {
  for (const m of messages) ctx.dispatcher.add({ id: m.id, seq: m.seq, dueAt: m.dueAt, queueName: m.queueName, flow: m.flow, message: m });
}
