/**
 * Email through the deployment's SMTP server (SMTP_*), with nodemailer. One send is one message to
 * its recipients; the outcome is a value: sent, or failed with a reason that is safe for the sync
 * log (the server's reply code and text, never the credentials), and whether trying again can help
 * (a 4xx reply, a timeout or a lost connection can; a 5xx reply or a refused login cannot).
 */
import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../config.ts';

/** One email. `messageId` is the same on every retry of one digest, so a mailbox can drop a repeat. */
export interface MailMessage {
  to: readonly string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

/** What one send came to. */
export type MailOutcome = { kind: 'sent'; accepted: string[] } | { kind: 'failed'; retry: boolean; reason: string };

/** Sends email; `close` ends its pooled connections. */
export interface MailSender {
  send(message: MailMessage): Promise<MailOutcome>;
  close(): void;
}

/** Longest wait for the server at each step: well inside a digest's claim on its slot. */
const SMTP_TIMEOUT_MS = 30_000;

/** A sender for the configured SMTP server. */
export function smtpSender(config: SmtpConfig): MailSender {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.password } } : {}),
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    // nodemailer's own logger stays off: it can print the AUTH exchange.
    logger: false,
    debug: false,
  });
  return {
    async send(message) {
      try {
        const info = await transport.sendMail({
          from: config.from,
          to: [...message.to],
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId: message.messageId,
        });
        return {
          kind: 'sent',
          accepted: (info.accepted as unknown[]).map((entry) =>
            typeof entry === 'string' ? entry : String((entry as { address?: unknown }).address),
          ),
        };
      } catch (error) {
        return describeFailure(error, config);
      }
    },
    close: () => transport.close(),
  };
}

/** The failure of a send, told without secrets. */
function describeFailure(error: unknown, config: SmtpConfig): MailOutcome {
  const { code, responseCode, response } = (error ?? {}) as { code?: unknown; responseCode?: unknown; response?: unknown };
  const status = typeof responseCode === 'number' ? responseCode : null;
  const reply = typeof response === 'string' ? response.replace(/\s+/g, ' ').slice(0, 200) : '';
  let reason = `SMTP ${typeof code === 'string' ? code : 'error'}${status === null ? '' : ` ${status}`}${reply === '' ? '' : `: ${reply}`}`;
  // The server's reply never carries our password, but a misbehaving one could echo what it got.
  if (config.auth) reason = reason.replaceAll(config.auth.password, '[redacted]');
  const retry = code === 'EAUTH' ? false : status === null ? true : status < 500;
  return { kind: 'failed', retry, reason };
}
