//! Invitations by email: the service sends through a real SMTP listener on loopback (a
//! small SMTP server here, speaking the protocol over TCP), and the invitee accepts with
//! the code from the message.

use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::{Value, json};
use strongroom_protocol::InvitationCreated;
use strongroom_server::config::{SmtpSettings, SmtpTls};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::{Backend, Fixture};

/// One message as the SMTP server received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// A minimal SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
/// keeps what it is sent.
pub struct SmtpSink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// A sink on this loopback port (0: any free one).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                    let mut current = Received::default();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") {
                            b"250-sink.test\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                            b"250 ok\r\n"
                        } else if upper.starts_with("MAIL FROM:") {
                            current = Received {
                                from: line[10..].trim().to_owned(),
                                ..Received::default()
                            };
                            b"250 ok\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            current.to.push(line[8..].trim().to_owned());
                            b"250 ok\r\n"
                        } else if upper == "DATA" {
                            let _ = write.write_all(b"354 end with .\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                                data.push('\n');
                            }
                            current.data = data;
                            store.lock().unwrap().push(current.clone());
                            b"250 queued\r\n"
                        } else if upper == "RSET" {
                            current = Received::default();
                            b"250 ok\r\n"
                        } else if upper == "QUIT" {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"502 not implemented\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink { port, received }
    }

    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            credentials: None,
            from: "Strongroom <no-reply@strongroom.test>".into(),
            tls: SmtpTls::None,
        }
    }
}

/// The body of a message, its quoted-printable encoding (RFC 2045) undone if it has one.
pub(crate) fn decoded_body(data: &str) -> String {
    let (head, body) = data.split_once("\n\n").unwrap_or(("", data));
    if !head
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return body.to_owned();
    }
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An admin's invitation goes out by email to the invitee, naming the practice and the
/// role, with a code that accepts it; the admin's answer says it was sent.
pub async fn an_invitation_is_emailed_and_its_code_accepts_it(backend: Backend) {
    let sink = SmtpSink::start().await;
    let f = Fixture::with_smtp(backend, sink.settings()).await;
    let admin = f.demo_admin().await.token;
    let (status, body) = f
        .request(
            Some(&admin),
            Method::POST,
            "/v1/invitations",
            Some(json!({"email": "new.lawyer@harbourvine.example", "role": "lawyer"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let created: InvitationCreated = serde_json::from_str(&body).unwrap();
    let mail = {
        let got = sink.received.lock().unwrap();
        assert_eq!(got.len(), 1, "one message");
        got[0].clone()
    };
    assert!(
        mail.to[0].contains("new.lawyer@harbourvine.example"),
        "{mail:?}"
    );
    assert!(mail.from.contains("no-reply@strongroom.test"), "{mail:?}");
    let text = decoded_body(&mail.data);
    assert!(text.contains("Harbour & Vine Lawyers"), "{text}");
    assert!(text.contains("as a lawyer"), "{text}");
    // The code in the message is the one that accepts the invitation.
    let code = text
        .lines()
        .map(str::trim)
        .find(|l| l.len() >= 40 && !l.contains(' ') && !l.contains(':'))
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned();
    assert_eq!(code, created.token);
    let (status, body) = f
        .request(
            None,
            Method::POST,
            "/v1/invitations/accept",
            Some(json!({
                "token": code,
                "display_name": "New Lawyer",
                "password": "Quayside-Ledger-7391-owl",
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["user"]["role"],
        "lawyer"
    );
    f.server.stop().await;
}

/// When the mail server cannot be reached, the invitation is not left pending: the admin
/// hears it was not sent (503) and no code works.
pub async fn an_invitation_that_cannot_be_emailed_is_withdrawn(backend: Backend) {
    // A port with nothing listening.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut settings = SmtpSink {
        port,
        received: Arc::default(),
    }
    .settings();
    settings.port = port;
    let f = Fixture::with_smtp(backend, settings).await;
    let admin = f.demo_admin().await.token;
    let (status, body) = f
        .request(
            Some(&admin),
            Method::POST,
            "/v1/invitations",
            Some(json!({"email": "lost@harbourvine.example", "role": "lawyer"})),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    let (_, body) = f
        .request(Some(&admin), Method::GET, "/v1/invitations", None)
        .await;
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert!(
        list.iter()
            .all(|i| i["email"] != "lost@harbourvine.example" || i["status"] == "revoked"),
        "{body}"
    );
    f.server.stop().await;
}
