import nodemailer from 'nodemailer';

type Transporter = ReturnType<typeof nodemailer.createTransport>;

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends through the SMTP server of VYTIS_SMTP_URL (nodemailer: STARTTLS when offered, smtps://). */
export class MailSender {
  private transport: Transporter | null = null;

  constructor(
    private readonly smtpUrl: string,
    private readonly from: string,
  ) {}

  async send(mail: OutgoingMail): Promise<void> {
    this.transport ??= nodemailer.createTransport({
      url: this.smtpUrl,
      // A server that does not answer fails the attempt (retried later), not the dispatcher.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    await this.transport.sendMail({ from: this.from, ...mail });
  }

  close() {
    this.transport?.close();
    this.transport = null;
  }
}
