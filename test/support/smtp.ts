/**
 * A real SMTP server on loopback for the tests (the `smtp-server` package, no mocks): every message
 * it accepts is parsed with `mailparser` and kept with its envelope recipients; `refuseNext` makes
 * it answer the next messages with a 451 (a temporary failure the sender retries).
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  mail: ParsedMail;
}

export interface TestSmtpServer {
  port: number;
  /** Every message accepted, in order. */
  received: ReceivedMail[];
  /** How many of the next messages to refuse with 451. */
  refuseNext: number;
  /** The app's SMTP settings pointing at this server. */
  env: Record<'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_FROM', string>;
  close(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const state = { received: [] as ReceivedMail[], refuseNext: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          if (state.refuseNext > 0) {
            state.refuseNext -= 1;
            callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
            return;
          }
          state.received.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), mail });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received: state.received,
    get refuseNext() {
      return state.refuseNext;
    },
    set refuseNext(count: number) {
      state.refuseNext = count;
    },
    env: { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_FROM: 'review@example.com' },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
