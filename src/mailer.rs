//! Sending e-mail over SMTP with lettre (tokio, rustls with the ring provider, trusting what [`crate::tls`]
//! says). The job runner hands it the outbox rows of the e-mail channel; what each says was rendered when the row
//! was made.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header::MessageId};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::config::{MailConfig, SmtpSecurity};
use crate::domain::mail::Rendered;
use crate::tls::ExtraRoots;

/// Time allowed for one SMTP conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What an e-mail row of the outbox carries.
#[derive(Debug, Clone, Deserialize)]
pub struct OutboxMail {
    pub to: String,
    pub message_id: String,
    pub mail: Rendered,
    /// The invitation whose link the message carries, filled in just before it is sent
    /// ([`crate::domain::mail::fill_invitation`]).
    #[serde(default)]
    pub invitation: Option<uuid::Uuid>,
}

/// An SMTP connection pool and the sender, built from the settings.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `None` while e-mail is off (no `mail.smtp_host`). The connection trusts what [`crate::tls`] says, with
    /// `roots` (`tls_ca_file`).
    pub fn from_config(mail: &MailConfig, roots: &ExtraRoots) -> anyhow::Result<Option<Mailer>> {
        let Some(host) = &mail.smtp_host else {
            return Ok(None);
        };
        let from: Mailbox = mail
            .from
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from: {e}"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(mail.port())
            .timeout(Some(SMTP_TIMEOUT));
        let tls = || roots.smtp(host);
        builder = match mail.smtp_security {
            SmtpSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let (Some(user), Some(password)) = (&mail.smtp_user, &mail.smtp_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
        }))
    }

    /// Sends one message to one address with its Message-ID; the error says why it was not accepted.
    pub async fn send(&self, mail: &OutboxMail) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("the address {:?} is not valid: {e}", mail.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.mail.subject.clone())
            .header(MessageId::from(mail.message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                mail.mail.text.clone(),
                mail.mail.html.clone(),
            ))
            .map_err(|e| format!("the message could not be built: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("the SMTP server did not take it: {e}"))
    }
}
