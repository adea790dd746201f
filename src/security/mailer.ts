// Security emails through SMTP (nodemailer). Nothing is sent when smtp.host is unset.
import type { Transporter } from "nodemailer";
import type { ResolvedConfig } from "../config/schema.js";

export class Mailer {
  private transport: Transporter | undefined;

  constructor(private readonly cfg: ResolvedConfig["smtp"]) {}

  get enabled(): boolean {
    return this.cfg.host !== undefined;
  }

  async send(to: string, subject: string, text: string): Promise<void> {
    if (!this.cfg.host) return;
    // nodemailer is loaded on first use (start-up memory: most processes send no mail).
    const { default: nodemailer } = await import("nodemailer");
    this.transport ??= nodemailer.createTransport({
      host: this.cfg.host,
      port: this.cfg.port,
      secure: this.cfg.secure,
      auth: this.cfg.user ? { user: this.cfg.user, pass: this.cfg.password ?? "" } : undefined,
      // Alerts must not hang a request for long when the relay is down.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
    await this.transport.sendMail({ from: this.cfg.from, to, subject, text });
  }
}
