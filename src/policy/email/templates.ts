// Mail templates, French and English. Plain text only: no HTML, no tracking, no remote content.
export type Language = "fr" | "en";

export interface Mail {
  subject: string;
  text: string;
}

export function validationMail(lang: Language, vars: { code: string; link: string; server: string }): Mail {
  return lang === "fr"
    ? {
        subject: `Votre code de validation : ${vars.code}`,
        text:
          `Bonjour,\n\nPour valider votre adresse sur ${vars.server}, saisissez le code ${vars.code}\n` +
          `ou ouvrez ce lien :\n${vars.link}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n`,
      }
    : {
        subject: `Your validation code: ${vars.code}`,
        text:
          `Hello,\n\nTo validate your address on ${vars.server}, enter the code ${vars.code}\n` +
          `or open this link:\n${vars.link}\n\nIf you did not ask for this, ignore this message.\n`,
      };
}

export function renewalMail(lang: Language, vars: { link: string; server: string; expires: string }): Mail {
  return lang === "fr"
    ? {
        subject: "Renouvelez votre compte",
        text: `Bonjour,\n\nVotre compte sur ${vars.server} expire le ${vars.expires}.\nPour le prolonger, ouvrez ce lien :\n${vars.link}\n`,
      }
    : {
        subject: "Renew your account",
        text: `Hello,\n\nYour account on ${vars.server} expires on ${vars.expires}.\nTo extend it, open this link:\n${vars.link}\n`,
      };
}

export function invitationMail(lang: Language, vars: { inviter: string; server: string }): Mail {
  return lang === "fr"
    ? {
        subject: "Vous êtes invité(e) à échanger",
        text: `Bonjour,\n\n${vars.inviter} vous invite à échanger sur ${vars.server}.\nCréez votre compte avec cette adresse pour rejoindre la conversation.\n`,
      }
    : {
        subject: "You have been invited to a conversation",
        text: `Hello,\n\n${vars.inviter} invites you to a conversation on ${vars.server}.\nCreate your account with this address to join it.\n`,
      };
}
