// Outgoing mail over SMTP (nodemailer). The message text is never logged: it carries codes and links.
import type { Transporter } from "nodemailer";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../../config/schema.js";
import type { Mail } from "./templates.js";
import { MatrixError } from "../../http/errors.js";

export interface Mailer {
  send(to: string, mail: Mail): Promise<void>;
}

export class SmtpMailer implements Mailer {
  private transportPromise?: Promise<Transporter>;

  constructor(
    private readonly smtp: ResolvedConfig["policy"]["smtp"],
    private readonly log: Logger,
  ) {}

  /** nodemailer is loaded on first use (start-up memory: most processes send no mail). */
  private transport(): Promise<Transporter> {
    const smtp = this.smtp;
    return (this.transportPromise ??= import("nodemailer").then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        requireTLS: smtp.require_tls && !smtp.secure,
        auth: smtp.user !== undefined ? { user: smtp.user, pass: smtp.password ?? "" } : undefined,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
      }),
    ));
  }

  async send(to: string, mail: Mail): Promise<void> {
    try {
      await (await this.transport()).sendMail({ from: this.smtp.from, to, subject: mail.subject, text: mail.text });
    } catch (e) {
      this.log.warn({ err: { message: (e as Error).message } }, "could not send mail");
      throw new MatrixError(500, "M_UNKNOWN", "Could not send the email");
    }
  }
}
