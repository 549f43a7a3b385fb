//! Email from the service: invitations to join a practice, and the outbox's notifications
//! ([`Mailer::send_mail`]), through the SMTP server the
//! configuration names (`[smtp]`, see [`crate::config`]), with lettre over tokio.
//!
//! Invariant: a message is built from the service's own words and the values it must
//! carry (the practice's name, the role, the one-time token); nothing else of the
//! practice's data goes by email.
//! Invariant: with credentials, the connection is encrypted (STARTTLS or TLS); the
//! configuration refuses credentials over plain SMTP.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use strongroom_protocol::Role;

use crate::config::{SmtpSettings, SmtpTls};

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the address {0:?} is not one mail can go to")]
    Address(String),
    #[error("the SMTP settings do not work: {0}")]
    Settings(String),
    #[error("the SMTP server did not take the message: {0}")]
    Send(String),
    #[error("the header {0:?} cannot be sent")]
    Header(String),
}

/// Sends the service's email through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

/// What an invitation email says.
#[derive(Debug, Clone)]
pub struct InvitationMail<'a> {
    pub to: &'a str,
    pub practice: &'a str,
    pub invited_by: &'a str,
    pub role: Role,
    pub token: &'a str,
    /// Unix seconds.
    pub expires_at: i64,
}

fn role_words(role: Role) -> &'static str {
    match role {
        Role::Admin => "an admin",
        Role::Lawyer => "a lawyer",
        Role::ReadOnly => "a read-only member",
    }
}

impl Mailer {
    /// A mailer for these settings. Connects only when it sends.
    pub fn new(settings: &SmtpSettings) -> Result<Self, MailError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|_| MailError::Address(settings.from.clone()))?;
        let builder = match settings.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(|e| MailError::Settings(e.to_string()))?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
                .map_err(|e| MailError::Settings(e.to_string()))?,
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if let Some(c) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                c.username.clone(),
                c.password.expose().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends an invitation: who invites, to which practice, as what, the token to paste
    /// into the app, and when it stops working.
    pub async fn send_invitation(&self, mail: &InvitationMail<'_>) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.to_owned()))?;
        let expires = time::OffsetDateTime::from_unix_timestamp(mail.expires_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc2822)
                    .ok()
            })
            .unwrap_or_else(|| "in a week".to_owned());
        let body = format!(
            "Hello,\n\n\
             {invited_by} has invited you to join {practice} on Strongroom as {role}.\n\n\
             To accept, open the Strongroom app, choose \"I have an invitation\", and enter \
             this invitation code:\n\n    {token}\n\n\
             The code works once and expires on {expires}. If you did not expect this \
             invitation, you can ignore this message: nothing happens unless the code is \
             used.\n\n\
             Strongroom\n",
            invited_by = mail.invited_by,
            practice = mail.practice,
            role = role_words(mail.role),
            token = mail.token,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!(
                "You're invited to join {} on Strongroom",
                mail.practice
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}

/// A message from the outbox (see [`crate::outbox`]): plain text, with extra headers.
#[derive(Debug, Clone)]
pub struct OutgoingMail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// Extra headers, as (name, value): `List-Unsubscribe` and `List-Unsubscribe-Post` on
    /// non-essential mail. A name that is not a header name is a [`MailError::Header`].
    pub headers: &'a [(String, String)],
}

impl Mailer {
    /// Sends one message from the outbox.
    pub async fn send_mail(&self, mail: &OutgoingMail<'_>) -> Result<(), MailError> {
        use lettre::message::header::{HeaderName, HeaderValue};
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.to_owned()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN);
        for (name, value) in mail.headers {
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|_| MailError::Header(name.clone()))?;
            builder = builder.raw_header(HeaderValue::new(name, value.clone()));
        }
        let message = builder
            .body(mail.body.to_owned())
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}
