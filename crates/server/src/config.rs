//! The settings of `strongroom-server serve`, from a TOML file, the environment and the
//! command line.
//!
//! Each setting is looked for in order, the later winning: built-in defaults, the TOML file
//! named by `--config`, the environment variables of [`ENV_VARS`] (an empty one counts as
//! unset), and the command line's flags ([`Overrides`]). `strongroom-server.example.toml`
//! beside this crate's manifest shows every key.
//!
//! Invariant: a key the server does not know is an error that names it, and so is a value
//! it cannot use, with where the value came from and what is wrong with it.
//! Invariant: no message and no `Debug` of these settings shows the database URL's password
//! or the SMTP password (nor, for those two keys, any part of a value that was refused).

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::StoreConfig;
use crate::sessions::SessionLifetimes;
use crate::store::postgres::describe_url;

/// Where the server listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
/// Where the TLS material (and SQLite's `server.db`) live unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = ".strongroom-server";
/// What is logged unless told otherwise.
pub const DEFAULT_LOG_LEVEL: &str = "info,tower_http=warn";

/// Each environment variable read, and the key it sets. Later ones win over earlier ones
/// (`STRONGROOM_LOG_LEVEL` over `RUST_LOG`).
pub const ENV_VARS: &[(&str, &str)] = &[
    ("STRONGROOM_LISTEN", "listen"),
    ("STRONGROOM_SERVER_DATA", "data_dir"),
    ("STRONGROOM_DATABASE_URL", "database_url"),
    ("STRONGROOM_PUBLIC_URL", "public_url"),
    ("STRONGROOM_SESSION_IDLE", "session.idle"),
    ("STRONGROOM_SESSION_ABSOLUTE", "session.absolute"),
    ("STRONGROOM_LOG_FORMAT", "log.format"),
    ("RUST_LOG", "log.level"),
    ("STRONGROOM_LOG_LEVEL", "log.level"),
    ("STRONGROOM_SMTP_HOST", "smtp.host"),
    ("STRONGROOM_SMTP_PORT", "smtp.port"),
    ("STRONGROOM_SMTP_USERNAME", "smtp.username"),
    ("STRONGROOM_SMTP_PASSWORD", "smtp.password"),
    ("STRONGROOM_SMTP_FROM", "smtp.from"),
    ("STRONGROOM_SMTP_TLS", "smtp.tls"),
];

/// Keys whose values are never shown, not even in part.
const SECRET_KEYS: &[&str] = &["database_url", "smtp.password"];

/// The shortest and longest session lifetimes accepted.
const MIN_LIFETIME_SECS: i64 = 60;
const MAX_LIFETIME_SECS: i64 = 365 * 24 * 3600;

/// The server's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// PostgreSQL's URL; `None` keeps the data in SQLite's `server.db` in the data directory.
    pub database_url: Option<DatabaseUrl>,
    pub sessions: SessionLifetimes,
    pub log: LogSettings,
    /// For the mailer to come; `None` when there is no `[smtp]` section.
    pub smtp: Option<SmtpSettings>,
    /// Where links in email point (`https://host[:port]`); `None`: the listen address.
    pub public_url: Option<String>,
}

impl ServerConfig {
    /// Which database holds the service's data.
    pub fn store(&self) -> StoreConfig {
        match &self.database_url {
            Some(url) => StoreConfig::Postgres {
                url: url.expose().to_owned(),
            },
            None => StoreConfig::Sqlite,
        }
    }
}

/// A PostgreSQL connection URL. Its `Debug` shows where it points, never its password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL itself, password and all: for connecting, never for messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&describe_url(&self.0))
    }
}

/// A password. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself: for using, never for messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object a line, for a log collector.
    Json,
}

impl LogFormat {
    /// The format of its name (`pretty` or `json`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pretty" => Some(LogFormat::Pretty),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// What is logged, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter: `info`, or `info,strongroom_server=debug`.
    pub level: String,
}

/// How the mailer reaches its SMTP server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (port 25 by default). Refused with a username and password.
    None,
    /// Plain, then upgraded with STARTTLS (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465 by default).
    Tls,
}

impl SmtpTls {
    /// The usual port of this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// The SMTP server the mailer will send through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub credentials: Option<SmtpCredentials>,
    /// The sender: `name@example.com` or `Name <name@example.com>`.
    pub from: String,
    pub tls: SmtpTls,
}

/// The mailer's sign-in at the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: Secret,
}

/// What the command line sets; each given flag wins over the file and the environment.
#[derive(Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
}

impl Overrides {
    /// The flag that set `key`, if one did.
    fn flag_for(&self, key: &str) -> Option<&'static str> {
        match key {
            "listen" if self.listen.is_some() => Some("--listen"),
            "data_dir" if self.data_dir.is_some() => Some("--data-dir"),
            "database_url" if self.database_url.is_some() => Some("--database-url"),
            "log.format" if self.log_format.is_some() => Some("--log-format"),
            "log.level" if self.log_level.is_some() => Some("--log-level"),
            _ => None,
        }
    }
}

/// Why the settings cannot be used: one line per problem, each naming its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn one(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}

/// A session lifetime in seconds: an integer, or a number with `s`, `m`, `h` or `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lifetime(i64);

impl Lifetime {
    const EXPECTED: &'static str =
        "a lifetime: seconds, or a number with s, m, h or d (e.g. \"14d\")";

    fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (digits, unit) = match s.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
            _ => (s, 's'),
        };
        let n: i64 = digits.trim().parse().ok()?;
        let scale = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        n.checked_mul(scale).map(Lifetime)
    }
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Lifetime;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(Lifetime::EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lifetime, E> {
                Ok(Lifetime(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lifetime, E> {
                i64::try_from(v)
                    .map(Lifetime)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lifetime, E> {
                Lifetime::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A TCP port: an integer, or a string of one (as the environment gives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Port(u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a port, 1 to 65535")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                u16::try_from(v)
                    .ok()
                    .filter(|p| *p != 0)
                    .map(Port)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Port, E> {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
                    .and_then(|n| self.visit_u64(n))
            }
        }
        d.deserialize_any(V)
    }
}

/// The settings as given, before the defaults and the checks.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    session: RawSession,
    log: RawLog,
    smtp: Option<RawSmtp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSession {
    idle: Option<Lifetime>,
    absolute: Option<Lifetime>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLog {
    format: Option<LogFormat>,
    level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    #[serde(default)]
    port: Option<Port>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<Secret>,
    from: String,
    #[serde(default)]
    tls: SmtpTls,
}

/// A provider under a name of this module's choosing, so a message can say where a value
/// came from.
struct Named<P> {
    inner: P,
    name: String,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.inner.data()
    }
}

/// Reads the settings: the TOML file at `file` if given, this process's environment, and
/// the command line's `cli`.
pub fn load(file: Option<&Path>, cli: &Overrides) -> Result<ServerConfig, ConfigError> {
    let text = match file {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            ConfigError::one(format!(
                "cannot read the config file {}: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let mut not_unicode = Vec::new();
    let env = |name: &str| match std::env::var(name) {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            not_unicode.push(format!("environment variable {name}: not UTF-8"));
            None
        }
    };
    let result = from_sources(file.zip(text.as_deref()), env, cli);
    if !not_unicode.is_empty() {
        return Err(ConfigError {
            problems: not_unicode,
        });
    }
    result
}

/// The settings from a file's text (with its path, for messages), the environment as
/// `env` answers it, and the command line's `cli`.
pub fn from_sources(
    file: Option<(&Path, &str)>,
    mut env: impl FnMut(&str) -> Option<String>,
    cli: &Overrides,
) -> Result<ServerConfig, ConfigError> {
    let mut figment = Figment::new();
    if let Some((path, text)) = file {
        let name = format!("config file {}", path.display());
        check_toml(&name, text)?;
        figment = figment.merge(Named {
            inner: Toml::string(text),
            name,
        });
    }
    for (var, key) in ENV_VARS {
        if let Some(value) = env(var).filter(|v| !v.is_empty()) {
            figment = figment.merge(Named {
                inner: Serialized::default(key, value),
                name: format!("environment variable {var}"),
            });
        }
    }
    let mut raw: RawConfig = figment
        .extract()
        .map_err(|e| extraction_error(e, &figment))?;
    // The command line, last.
    if let Some(listen) = cli.listen {
        raw.listen = Some(listen);
    }
    if let Some(dir) = &cli.data_dir {
        raw.data_dir = Some(dir.clone());
    }
    if let Some(url) = &cli.database_url {
        raw.database_url = Some(url.clone());
    }
    if let Some(format) = cli.log_format {
        raw.log.format = Some(format);
    }
    if let Some(level) = &cli.log_level {
        raw.log.level = Some(level.clone());
    }
    let mut problems = Vec::new();
    let config = check(raw, &mut |key: &str, problem: String| {
        problems.push(describe(key, source_of(key, cli, &figment), &problem));
    });
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError { problems })
    }
}

/// Refuses a file that is not TOML, saying where, without quoting it (the line may hold a
/// password).
fn check_toml(name: &str, text: &str) -> Result<(), ConfigError> {
    let Err(e) = toml::from_str::<toml::Table>(text) else {
        return Ok(());
    };
    let at = e
        .span()
        .map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(", line {line}, column {column}")
        })
        .unwrap_or_default();
    Err(ConfigError::one(format!(
        "{name}{at}: not valid TOML: {}",
        e.message().trim()
    )))
}

/// Where the value of `key` came from, if anywhere but the defaults.
fn source_of(key: &str, cli: &Overrides, figment: &Figment) -> Option<String> {
    if let Some(flag) = cli.flag_for(key) {
        return Some(format!("command line {flag}"));
    }
    figment.find_metadata(key).map(|m| m.name.to_string())
}

/// One problem's line: the key, where its value came from, and what is wrong.
fn describe(key: &str, source: Option<String>, problem: &str) -> String {
    match source {
        Some(source) => format!("`{key}` (from {source}): {problem}"),
        None => format!("`{key}`: {problem}"),
    }
}

fn is_secret(key: &str) -> bool {
    SECRET_KEYS.contains(&key)
}

/// The extraction's errors, one line each, each naming its key, never quoting a secret.
fn extraction_error(error: figment::Error, figment: &Figment) -> ConfigError {
    use figment::error::Kind;
    let mut problems = Vec::new();
    for e in error {
        let mut path = e.path.clone();
        let problem = match &e.kind {
            Kind::UnknownField(field, expected) => {
                // Figment may have put the field on the path already.
                if path.last() != Some(field) {
                    path.push(field.clone());
                }
                if expected.is_empty() {
                    "unknown key".to_owned()
                } else {
                    format!("unknown key; expected one of: {}", expected.join(", "))
                }
            }
            Kind::MissingField(field) => {
                if path.last().map(String::as_str) != Some(field.as_ref()) {
                    path.push(field.to_string());
                }
                "missing".to_owned()
            }
            Kind::UnknownVariant(value, expected) => {
                format!(
                    "unknown value {value:?}; expected one of: {}",
                    expected.join(", ")
                )
            }
            Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
                if is_secret(&path.join(".")) {
                    format!("expected {expected}")
                } else {
                    format!("expected {expected}, found {actual}")
                }
            }
            other => {
                if is_secret(&path.join(".")) {
                    "not a usable value".to_owned()
                } else {
                    other.to_string()
                }
            }
        };
        let key = path.join(".");
        let source = e
            .metadata
            .as_ref()
            .map(|m| m.name.to_string())
            .or_else(|| figment.find_metadata(&key).map(|m| m.name.to_string()));
        let key: Cow<'_, str> = if key.is_empty() {
            "(the top level)".into()
        } else {
            key.into()
        };
        problems.push(describe(&key, source, &problem));
    }
    ConfigError { problems }
}

/// Applies the defaults and checks every value; each problem goes to `problem(key, what)`
/// (the settings answered are of no use if there was one).
fn check(raw: RawConfig, problem: &mut dyn FnMut(&str, String)) -> ServerConfig {
    let listen = raw.listen.unwrap_or_else(|| {
        DEFAULT_LISTEN
            .parse()
            .expect("the default listen address parses")
    });
    let data_dir = raw
        .data_dir
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    if data_dir.as_os_str().is_empty() {
        problem("data_dir", "must not be empty".into());
    }
    let database_url = match raw.database_url.filter(|u| !u.trim().is_empty()) {
        None => None,
        Some(url) => {
            if url.parse::<tokio_postgres::Config>().is_err() {
                problem(
                    "database_url",
                    "not a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DB)".into(),
                );
            }
            Some(DatabaseUrl(url))
        }
    };

    let defaults = SessionLifetimes::default();
    let idle = raw.session.idle.map_or(defaults.idle_secs, |l| l.0);
    let absolute = raw.session.absolute.map_or(defaults.absolute_secs, |l| l.0);
    let range = |secs: i64| (MIN_LIFETIME_SECS..=MAX_LIFETIME_SECS).contains(&secs);
    if !range(idle) {
        problem(
            "session.idle",
            format!("{idle} seconds is not 1 minute to 365 days"),
        );
    }
    if !range(absolute) {
        problem(
            "session.absolute",
            format!("{absolute} seconds is not 1 minute to 365 days"),
        );
    }
    if range(idle) && range(absolute) && idle > absolute {
        problem(
            "session.idle",
            format!("{idle} seconds is longer than session.absolute ({absolute} seconds)"),
        );
    }

    let level = raw.log.level.unwrap_or_else(|| DEFAULT_LOG_LEVEL.into());
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&level) {
        problem(
            "log.level",
            format!("not a log filter (e.g. `info` or `info,strongroom_server=debug`): {e}"),
        );
    }
    let log = LogSettings {
        format: raw.log.format.unwrap_or_default(),
        level,
    };

    let smtp = raw.smtp.map(|s| check_smtp(s, problem));
    let public_url = raw.public_url.filter(|u| !u.trim().is_empty()).map(|u| {
        let u = u.trim().trim_end_matches('/').to_owned();
        let authority = u.strip_prefix("https://").unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, Some(p)),
            _ => (authority, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !is_host(host) || port.is_some_and(|p| p.parse::<u16>().is_err()) {
            problem(
                "public_url",
                "not an https:// address of a host, with no path (https://strongroom.example.com)"
                    .into(),
            );
        }
        u
    });
    ServerConfig {
        public_url,
        listen,
        data_dir,
        database_url,
        sessions: SessionLifetimes {
            idle_secs: idle,
            absolute_secs: absolute,
        },
        log,
        smtp,
    }
}

fn check_smtp(s: RawSmtp, problem: &mut dyn FnMut(&str, String)) -> SmtpSettings {
    let host = s.host.trim().to_owned();
    if !is_host(&host) {
        problem(
            "smtp.host",
            "not a host name or IP address (e.g. smtp.example.com)".into(),
        );
    }
    let from = s.from.trim().to_owned();
    if !is_sender(&from) {
        problem(
            "smtp.from",
            "not an email address (`name@example.com` or `Name <name@example.com>`)".into(),
        );
    }
    let credentials = match (s.username, s.password) {
        (None, None) => None,
        (Some(username), Some(password)) => {
            if username.trim().is_empty() || username.chars().any(char::is_control) {
                problem(
                    "smtp.username",
                    "must not be empty or hold control characters".into(),
                );
            }
            if password.expose().is_empty() {
                problem("smtp.password", "must not be empty".into());
            }
            Some(SmtpCredentials { username, password })
        }
        (Some(_), None) => {
            problem("smtp.password", "missing: smtp.username needs it".into());
            None
        }
        (None, Some(_)) => {
            problem("smtp.username", "missing: smtp.password needs it".into());
            None
        }
    };
    if credentials.is_some() && s.tls == SmtpTls::None {
        problem(
            "smtp.tls",
            "\"none\" would send the SMTP password in clear; use \"starttls\" or \"tls\"".into(),
        );
    }
    SmtpSettings {
        port: s.port.map_or_else(|| s.tls.default_port(), |p| p.0),
        host,
        credentials,
        from,
        tls: s.tls,
    }
}

/// A DNS name (letters, digits, hyphens, dots) or an IP address.
fn is_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// `name@domain`, or `Display Name <name@domain>`; nothing that could break a header.
fn is_sender(from: &str) -> bool {
    if from.is_empty() || from.len() > 320 || from.chars().any(char::is_control) {
        return false;
    }
    let address = match from.strip_suffix('>') {
        Some(rest) => match rest.rsplit_once('<') {
            Some((_name, address)) => address,
            None => return false,
        },
        None => from,
    };
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains(|c: char| c.is_whitespace() || "<>@".contains(c))
                && is_host(domain)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one case must give.
    enum Expect {
        /// The settings, checked by the function.
        Ok(fn(&ServerConfig)),
        /// An error whose text holds every one of the first and none of the second.
        Err(&'static [&'static str], &'static [&'static str]),
    }

    struct Case {
        name: &'static str,
        file: Option<&'static str>,
        env: &'static [(&'static str, &'static str)],
        cli: fn() -> Overrides,
        expect: Expect,
    }

    fn no_flags() -> Overrides {
        Overrides::default()
    }

    const SMTP_OK: &str = r#"
        [smtp]
        host = "smtp.example.com"
        username = "strongroom"
        password = "smtp-sekrit-pw"
        from = "Strongroom <no-reply@example.com>"
    "#;

    fn cases() -> Vec<Case> {
        use Expect::*;
        vec![
            Case {
                name: "nothing given: the defaults",
                file: None,
                env: &[],
                cli: no_flags,
                expect: Ok(|c| {
                    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
                    assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
                    assert_eq!(c.database_url, None);
                    assert_eq!(c.store(), StoreConfig::Sqlite);
                    assert_eq!(c.sessions, SessionLifetimes::default());
                    assert_eq!(c.log.format, LogFormat::Pretty);
                    assert_eq!(c.log.level, DEFAULT_LOG_LEVEL);
                    assert_eq!(c.smtp, None);
                }),
            },
            Case {
                name: "an empty file: the defaults",
                file: Some(""),
                env: &[("STRONGROOM_LISTEN", "")],
                cli: no_flags,
                expect: Ok(|c| assert_eq!(c.listen.to_string(), DEFAULT_LISTEN)),
            },
            Case {
                name: "every key in the file",
                file: Some(
                    r#"
                    listen = "0.0.0.0:9443"
                    data_dir = "/var/lib/strongroom"
                    database_url = "postgres://sr:pw@db.internal:5433/strongroom"
                    [session]
                    idle = "2h"
                    absolute = 86400
                    [log]
                    format = "json"
                    level = "debug"
                    [smtp]
                    host = "smtp.example.com"
                    port = 2525
                    username = "strongroom"
                    password = "smtp-sekrit-pw"
                    from = "no-reply@example.com"
                    tls = "tls"
                    "#,
                ),
                env: &[],
                cli: no_flags,
                expect: Ok(|c| {
                    assert_eq!(c.listen.to_string(), "0.0.0.0:9443");
                    assert_eq!(c.data_dir, PathBuf::from("/var/lib/strongroom"));
                    assert!(matches!(c.store(), StoreConfig::Postgres { .. }));
                    assert_eq!(
                        c.sessions,
                        SessionLifetimes {
                            idle_secs: 7200,
                            absolute_secs: 86400
                        }
                    );
                    assert_eq!(c.log.format, LogFormat::Json);
                    assert_eq!(c.log.level, "debug");
                    let smtp = c.smtp.as_ref().unwrap();
                    assert_eq!(
                        (smtp.host.as_str(), smtp.port, smtp.tls),
                        ("smtp.example.com", 2525, SmtpTls::Tls)
                    );
                    let creds = smtp.credentials.as_ref().unwrap();
                    assert_eq!(creds.username, "strongroom");
                    assert_eq!(creds.password.expose(), "smtp-sekrit-pw");
                    assert_eq!(smtp.from, "no-reply@example.com");
                    // Debug shows neither password.
                    let debug = format!("{c:?}");
                    assert!(!debug.contains("smtp-sekrit-pw"), "{debug}");
                    assert!(!debug.contains(":pw@"), "{debug}");
                    assert!(debug.contains("db.internal:5433"), "{debug}");
                }),
            },
            Case {
                name: "the environment wins over the file, the command line over both",
                file: Some(
                    r#"
                    listen = "127.0.0.1:1001"
                    data_dir = "/from/file"
                    [log]
                    level = "warn"
                    format = "json"
                    "#,
                ),
                env: &[
                    ("STRONGROOM_LISTEN", "127.0.0.1:1002"),
                    ("STRONGROOM_SERVER_DATA", "/from/env"),
                    ("RUST_LOG", "error"),
                    ("STRONGROOM_LOG_LEVEL", "trace"),
                ],
                cli: || Overrides {
                    listen: Some("127.0.0.1:1003".parse().unwrap()),
                    log_format: Some(LogFormat::Pretty),
                    ..Overrides::default()
                },
                expect: Ok(|c| {
                    assert_eq!(c.listen.to_string(), "127.0.0.1:1003");
                    assert_eq!(c.data_dir, PathBuf::from("/from/env"));
                    assert_eq!(c.log.level, "trace", "STRONGROOM_LOG_LEVEL over RUST_LOG");
                    assert_eq!(c.log.format, LogFormat::Pretty);
                }),
            },
            Case {
                name: "RUST_LOG alone still sets the level",
                file: None,
                env: &[("RUST_LOG", "warn,strongroom_server=debug")],
                cli: no_flags,
                expect: Ok(|c| assert_eq!(c.log.level, "warn,strongroom_server=debug")),
            },
            Case {
                name: "smtp from the environment, with a numeric password kept as text",
                file: None,
                env: &[
                    ("STRONGROOM_SMTP_HOST", "10.0.0.25"),
                    ("STRONGROOM_SMTP_PORT", "587"),
                    ("STRONGROOM_SMTP_USERNAME", "mailer"),
                    ("STRONGROOM_SMTP_PASSWORD", "123456"),
                    ("STRONGROOM_SMTP_FROM", "Practice <office@example.com>"),
                    ("STRONGROOM_SMTP_TLS", "starttls"),
                    ("STRONGROOM_SESSION_IDLE", "3600"),
                ],
                cli: no_flags,
                expect: Ok(|c| {
                    let smtp = c.smtp.as_ref().unwrap();
                    assert_eq!((smtp.host.as_str(), smtp.port), ("10.0.0.25", 587));
                    let creds = smtp.credentials.as_ref().unwrap();
                    assert_eq!(creds.password.expose(), "123456");
                    assert_eq!(c.sessions.idle_secs, 3600);
                }),
            },
            Case {
                name: "smtp without credentials, the port from the mode",
                file: Some(
                    "[smtp]\nhost = \"relay.internal\"\nfrom = \"a@b.example\"\ntls = \"none\"\n",
                ),
                env: &[],
                cli: no_flags,
                expect: Ok(|c| {
                    let smtp = c.smtp.as_ref().unwrap();
                    assert_eq!((smtp.port, smtp.tls), (25, SmtpTls::None));
                    assert_eq!(smtp.credentials, None);
                }),
            },
            Case {
                name: "smtp's default mode is STARTTLS on 587",
                file: Some(SMTP_OK),
                env: &[],
                cli: no_flags,
                expect: Ok(|c| {
                    let smtp = c.smtp.as_ref().unwrap();
                    assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
                }),
            },
            Case {
                name: "an empty database URL is SQLite",
                file: Some("database_url = \"\""),
                env: &[],
                cli: no_flags,
                expect: Ok(|c| assert_eq!(c.store(), StoreConfig::Sqlite)),
            },
            Case {
                name: "an unknown top-level key",
                file: Some("listen = \"127.0.0.1:1\"\nlisten_adress = \"x\"\n"),
                env: &[],
                cli: no_flags,
                expect: Err(&["`listen_adress`", "unknown key", "config file"], &[]),
            },
            Case {
                name: "an unknown key in a section",
                file: Some("[smtp]\nhots = \"smtp.example.com\"\nfrom = \"a@b.example\"\n"),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.hots`", "unknown key", "host"], &[]),
            },
            Case {
                name: "an unknown section",
                file: Some("[tls]\ncert = \"/etc/cert.pem\"\n"),
                env: &[],
                cli: no_flags,
                expect: Err(&["`tls`", "unknown key"], &[]),
            },
            Case {
                name: "a bad listen address",
                file: Some("listen = \"localhost\""),
                env: &[],
                cli: no_flags,
                expect: Err(&["`listen`", "config file", "socket address"], &[]),
            },
            Case {
                name: "a bad port from the environment names the variable",
                file: Some(SMTP_OK),
                env: &[("STRONGROOM_SMTP_PORT", "seventy")],
                cli: no_flags,
                expect: Err(
                    &[
                        "`smtp.port`",
                        "environment variable STRONGROOM_SMTP_PORT",
                        "1 to 65535",
                    ],
                    &["smtp-sekrit-pw"],
                ),
            },
            Case {
                name: "a port out of range",
                file: Some("[smtp]\nhost = \"h.example\"\nfrom = \"a@b.example\"\nport = 70000\n"),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.port`", "1 to 65535"], &[]),
            },
            Case {
                name: "a public URL for links in email",
                file: Some("public_url = \"https://strongroom.example.com:8443/\""),
                env: &[],
                cli: no_flags,
                expect: Ok(|c| {
                    assert_eq!(
                        c.public_url.as_deref(),
                        Some("https://strongroom.example.com:8443")
                    )
                }),
            },
            Case {
                name: "a public URL must be https with no path",
                file: None,
                env: &[("STRONGROOM_PUBLIC_URL", "http://strongroom.example.com/x")],
                cli: no_flags,
                expect: Err(&["`public_url`", "STRONGROOM_PUBLIC_URL"], &[]),
            },
            Case {
                name: "an unknown log format",
                file: Some("[log]\nformat = \"xml\""),
                env: &[],
                cli: no_flags,
                expect: Err(&["`log.format`", "\"xml\"", "pretty", "json"], &[]),
            },
            Case {
                name: "a bad log level from the command line names the flag",
                file: None,
                env: &[],
                cli: || Overrides {
                    log_level: Some("info,[[".into()),
                    ..Overrides::default()
                },
                expect: Err(&["`log.level`", "--log-level", "not a log filter"], &[]),
            },
            Case {
                name: "a bad database URL never shows its password",
                file: Some("database_url = \"postgres://sr:db-sekrit-pw@db:notaport/x\""),
                env: &[],
                cli: no_flags,
                expect: Err(
                    &["`database_url`", "not a PostgreSQL URL", "config file"],
                    &["db-sekrit-pw"],
                ),
            },
            Case {
                name: "a database URL of the wrong type never shows it",
                file: Some("database_url = 123456789"),
                env: &[],
                cli: no_flags,
                expect: Err(&["`database_url`", "expected a string"], &["123456789"]),
            },
            Case {
                name: "an SMTP password of the wrong type never shows it",
                file: Some(
                    "[smtp]\nhost = \"h.example\"\nfrom = \"a@b.example\"\nusername = \"u\"\npassword = 987654321\n",
                ),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.password`"], &["987654321"]),
            },
            Case {
                name: "a TOML syntax error is placed, not quoted",
                file: Some(
                    "listen = \"127.0.0.1:1\"\ndatabase_url = \"postgres://sr:db-sekrit-pw@db/x\n",
                ),
                env: &[],
                cli: no_flags,
                expect: Err(
                    &["config file", "line 2", "not valid TOML"],
                    &["db-sekrit-pw"],
                ),
            },
            Case {
                name: "smtp is missing its sender",
                file: Some("[smtp]\nhost = \"smtp.example.com\"\n"),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.from`", "missing"], &[]),
            },
            Case {
                name: "smtp's sender must be an address",
                file: Some(
                    "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"Strongroom\\r\\nBcc: x@evil.example\"\n",
                ),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.from`", "not an email address"], &[]),
            },
            Case {
                name: "smtp's host must be a host",
                file: Some("[smtp]\nhost = \"smtp example com\"\nfrom = \"a@b.example\"\n"),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.host`", "not a host name"], &[]),
            },
            Case {
                name: "an unknown TLS mode",
                file: Some(
                    "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"a@b.example\"\ntls = \"ssl\"\n",
                ),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.tls`", "\"ssl\"", "none, starttls, tls"], &[]),
            },
            Case {
                name: "a password is never sent in clear",
                file: Some(SMTP_OK),
                env: &[("STRONGROOM_SMTP_TLS", "none")],
                cli: no_flags,
                expect: Err(
                    &["`smtp.tls`", "STRONGROOM_SMTP_TLS", "in clear"],
                    &["smtp-sekrit-pw"],
                ),
            },
            Case {
                name: "a username without a password",
                file: Some(
                    "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"a@b.example\"\nusername = \"u\"\n",
                ),
                env: &[],
                cli: no_flags,
                expect: Err(&["`smtp.password`", "missing"], &[]),
            },
            Case {
                name: "a session lifetime that is no lifetime",
                file: Some("[session]\nidle = \"two weeks\""),
                env: &[],
                cli: no_flags,
                expect: Err(&["`session.idle`", "\"14d\""], &[]),
            },
            Case {
                name: "a session lifetime too short",
                file: None,
                env: &[("STRONGROOM_SESSION_ABSOLUTE", "30s")],
                cli: no_flags,
                expect: Err(
                    &[
                        "`session.absolute`",
                        "STRONGROOM_SESSION_ABSOLUTE",
                        "1 minute to 365 days",
                    ],
                    &[],
                ),
            },
            Case {
                name: "idle longer than absolute",
                file: Some("[session]\nidle = \"30d\"\nabsolute = \"7d\""),
                env: &[],
                cli: no_flags,
                expect: Err(&["`session.idle`", "longer than session.absolute"], &[]),
            },
            Case {
                name: "several problems are all told",
                file: Some(
                    "[log]\nlevel = \"info,[[\"\n[session]\nidle = \"30d\"\nabsolute = \"7d\"\n",
                ),
                env: &[("STRONGROOM_DATABASE_URL", "postgres://u:db-sekrit-pw@h:x/d")],
                cli: no_flags,
                expect: Err(
                    &[
                        "`log.level`",
                        "`session.idle`",
                        "`database_url`",
                        "STRONGROOM_DATABASE_URL",
                    ],
                    &["db-sekrit-pw"],
                ),
            },
        ]
    }

    #[test]
    fn settings_come_from_file_environment_and_flags_in_that_order() {
        let path = Path::new("/etc/strongroom/server.toml");
        for case in cases() {
            let env = |name: &str| {
                case.env
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            };
            let got = from_sources(case.file.map(|t| (path, t)), env, &(case.cli)());
            match (&case.expect, got) {
                (Expect::Ok(check), Ok(config)) => check(&config),
                (Expect::Ok(_), Err(e)) => panic!("{}: refused: {e}", case.name),
                (Expect::Err(..), Ok(config)) => panic!("{}: accepted: {config:?}", case.name),
                (Expect::Err(must, must_not), Err(e)) => {
                    let text = e.to_string();
                    for m in *must {
                        assert!(text.contains(m), "{}: {m:?} not in:\n{text}", case.name);
                    }
                    for m in *must_not {
                        assert!(!text.contains(m), "{}: {m:?} shown in:\n{text}", case.name);
                    }
                }
            }
        }
    }

    #[test]
    fn a_missing_config_file_is_named() {
        let e = load(
            Some(Path::new("/nonexistent/strongroom.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/strongroom.toml"),
            "{e}"
        );
    }

    /// The example is valid as it stands, and with its optional settings (`#key = ...`,
    /// `#[section]`: a `#` right before the text) turned on; it shows every key.
    #[test]
    fn the_example_file_is_valid_and_complete() {
        let text = include_str!("../strongroom-server.example.toml");
        let path = Path::new("strongroom-server.example.toml");
        let as_is = from_sources(Some((path, text)), |_| None, &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(as_is.store(), StoreConfig::Sqlite);
        let on: String = text
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '[') => {
                    rest
                }
                _ => l,
            })
            .flat_map(|l| [l, "\n"])
            .collect();
        let all = from_sources(Some((path, &on)), |_| None, &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}\n{on}"));
        assert!(matches!(all.store(), StoreConfig::Postgres { .. }));
        assert!(all.smtp.unwrap().credentials.is_some());
        for (_, key) in ENV_VARS {
            let (section, leaf) = key.rsplit_once('.').unwrap_or(("", key));
            assert!(
                on.contains(&format!("\n{leaf} =")),
                "the example does not show {key}"
            );
            if !section.is_empty() {
                assert!(on.contains(&format!("[{section}]")), "no [{section}]");
            }
        }
    }

    #[test]
    fn lifetimes_parse() {
        for (text, want) in [
            ("90", Some(90)),
            ("90s", Some(90)),
            ("45m", Some(2700)),
            ("12h", Some(43_200)),
            ("14d", Some(1_209_600)),
            (" 2 h ", Some(7200)),
            ("", None),
            ("d", None),
            ("5w", None),
            ("-5", Some(-5)),
            ("99999999999999999d", None),
        ] {
            assert_eq!(Lifetime::parse(text).map(|l| l.0), want, "{text:?}");
        }
    }

    #[test]
    fn senders_and_hosts() {
        for (from, ok) in [
            ("a@b.example", true),
            ("Strongroom <no-reply@example.com>", true),
            ("\"Harbour & Vine\" <office@hv.example>", true),
            ("no-at-sign", false),
            ("a@", false),
            ("@b.example", false),
            ("Name <a@b.example", false),
            ("a b@c.example", false),
            ("a@b.example\nBcc: c@d.example", false),
        ] {
            assert_eq!(is_sender(from), ok, "{from:?}");
        }
        for (host, ok) in [
            ("smtp.example.com", true),
            ("localhost", true),
            ("192.0.2.1", true),
            ("::1", true),
            ("", false),
            ("-bad.example", false),
            ("a..b", false),
            ("under_score.example", false),
        ] {
            assert_eq!(is_host(host), ok, "{host:?}");
        }
    }
}
