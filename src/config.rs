//! Settings: defaults, then an optional TOML file, then environment variables (`PROCUREMENT_REVIEW_*`, and
//! `DATABASE_URL`). Every setting is listed, with its default, in README's configuration table.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// A value that must never be printed: `Debug` and `Display` show a placeholder.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite:FILE` (created on first run) or `postgres://...`.
    pub database_url: Secret,
    /// Pool size; unset, the backend's default ([`crate::store::Store::default_pool_size`]).
    pub database_max_connections: Option<u32>,
    pub listen: SocketAddr,
    /// Public base URL of the service, used in links it hands out (vendor invitations, sign-in links). Empty
    /// (the default): `http://` and the address the service actually listens on.
    pub public_url: String,
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info` or `procurement_review=debug,info`.
    pub log_level: String,
    /// Largest JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest file upload (workbooks, evidence), in bytes.
    pub max_upload_bytes: usize,
    /// Spreadsheet uploads read at once (check and parse); each may take a few hundred megabytes at the limits.
    pub max_concurrent_imports: usize,
    /// Milliseconds an upload waits for one of those slots before it is refused with 503 `imports_busy`.
    pub import_wait_ms: u64,
    /// Seconds a shutdown waits for requests in flight.
    pub shutdown_grace_seconds: u64,
    /// Milliseconds a request's head may take from its first byte (or a new connection from its accept).
    pub http_header_timeout_ms: u64,
    /// Milliseconds a request body may take to arrive in full; then 408 and the connection is closed.
    pub http_body_timeout_ms: u64,
    /// Milliseconds a keep-alive connection may wait for its next request, or a response for its client to read.
    pub http_idle_timeout_ms: u64,
    /// Connections served at once; more wait in the listen queue until one closes.
    pub http_max_connections: usize,
    /// Folder of questionnaire templates (`*.toml`) to use instead of the ones built into the binary.
    pub questionnaires_dir: Option<PathBuf>,
    /// Days a vendor invitation stays valid unless revoked.
    pub invitation_days: u32,
    /// Seconds between passes of the job runner (reminders, webhook deliveries); 0 turns it off.
    pub jobs_interval_seconds: u64,
    /// URLs that receive every notification as a signed JSON POST.
    pub webhook_urls: Vec<String>,
    /// Shared secret of the webhook signature (HMAC-SHA256); required when `webhook_urls` is set.
    pub webhook_secret: Option<Secret>,
    /// PEM file of certificate authorities that webhook deliveries, e-mail and the OpenID Connect client trust
    /// besides the platform's certificate store ([`crate::tls`]).
    pub tls_ca_file: Option<PathBuf>,
    pub auth: AuthConfig,
    /// E-mail notifications over SMTP; off while `mail.smtp_host` is unset.
    pub mail: MailConfig,
    /// Staff sign-in to the console through an OpenID Connect provider; off while `oidc.issuer_url` is unset.
    pub oidc: OidcConfig,
}

/// The console's OpenID Connect sign-in (authorization code flow with PKCE). The redirect URI to register with
/// the provider is `{public_url}/login/oidc/callback`, and the post-logout redirect URI `{public_url}/?signed_out=1`
/// (signing out signs out at the provider too when it publishes an `end_session_endpoint`); roles and department
/// come from the ID token's claims named by `auth.role_claim` and `auth.department_claim`, as for API tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL; its `/.well-known/openid-configuration` is read on the first sign-in.
    pub issuer_url: Option<String>,
    /// This service's client id at the provider (the ID token's audience).
    pub client_id: Option<String>,
    /// This service's client secret at the provider (never logged nor printed).
    pub client_secret: Option<Secret>,
    /// The provider's name as the sign-in page shows it: "Sign in with {provider_name}".
    pub provider_name: String,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer_url: None,
            client_id: None,
            client_secret: None,
            provider_name: "the city's identity provider".to_string(),
        }
    }
}

impl OidcConfig {
    pub fn enabled(&self) -> bool {
        self.issuer_url.is_some()
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a test server.
    None,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// SMTP server; e-mail is off while unset (notifications and webhooks go on).
    pub smtp_host: Option<String>,
    /// SMTP port; defaults by `smtp_security`: 587 (STARTTLS), 465 (TLS), 25 (none).
    pub smtp_port: Option<u16>,
    pub smtp_security: SmtpSecurity,
    pub smtp_user: Option<String>,
    /// Never printed.
    pub smtp_password: Option<Secret>,
    /// The From address of every message, e.g. `Procurement Review <procurement@city.example>`.
    pub from: Option<String>,
    /// The CIO office's mailbox: what the CIO role is told.
    pub cio_office: Vec<String>,
    /// Finance's mailbox.
    pub finance: Vec<String>,
    /// The security team's mailbox: what the security analysts are told.
    pub security: Vec<String>,
    /// Each department's buyer contacts, by department code.
    pub department_contacts: std::collections::BTreeMap<String, Vec<String>>,
    /// Addresses that chose a daily digest instead of a message per notification.
    pub digest: Vec<String>,
    /// Hour of the day (UTC, 0-23) at which the daily digests are sent.
    pub digest_hour_utc: u32,
}

impl MailConfig {
    /// The mailboxes the notification rules address.
    pub fn mailboxes(&self) -> crate::domain::mail::Mailboxes {
        crate::domain::mail::Mailboxes {
            from: self.from.clone(),
            cio_office: self.cio_office.clone(),
            finance: self.finance.clone(),
            security: self.security.clone(),
            department_contacts: self.department_contacts.clone(),
            digest: self.digest.clone(),
            digest_hour_utc: self.digest_hour_utc,
        }
    }

    /// Whether e-mail is on.
    pub fn enabled(&self) -> bool {
        self.smtp_host.is_some()
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.smtp_security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}

/// A comma-separated list of addresses, blanks dropped.
fn address_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 secret for locally minted staff tokens (embedded mode). When neither this nor an identity provider
    /// key is configured, a secret is generated on first run and kept in the database.
    pub hs256_secret: Option<Secret>,
    /// PEM file with the identity provider's RSA or EC public key (RS256 / ES256).
    pub jwt_public_key_file: Option<PathBuf>,
    /// JWKS file (JSON) with the identity provider's keys; a token's `kid` picks the key.
    pub jwks_file: Option<PathBuf>,
    /// `iss` a staff token must carry.
    pub issuer: String,
    /// `aud` a staff token must carry.
    pub audience: String,
    /// Claim holding the role or roles (a string or an array); dots walk into objects (`realm_access.roles`).
    pub role_claim: String,
    pub department_claim: String,
    pub vendor_claim: String,
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: Secret::new("sqlite:procurement-review.db"),
            database_max_connections: None,
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            public_url: String::new(),
            log_format: LogFormat::Text,
            log_level: "info".to_string(),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 10 * 1000 * 1000,
            max_concurrent_imports: 2,
            import_wait_ms: 10_000,
            shutdown_grace_seconds: 10,
            http_header_timeout_ms: 10_000,
            http_body_timeout_ms: 60_000,
            http_idle_timeout_ms: 75_000,
            http_max_connections: 512,
            questionnaires_dir: None,
            invitation_days: 30,
            jobs_interval_seconds: 60,
            webhook_urls: Vec::new(),
            webhook_secret: None,
            tls_ca_file: None,
            auth: AuthConfig::default(),
            oidc: OidcConfig::default(),
            mail: MailConfig {
                digest_hour_utc: 7,
                ..MailConfig::default()
            },
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            hs256_secret: None,
            jwt_public_key_file: None,
            jwks_file: None,
            issuer: "procurement-review".to_string(),
            audience: "procurement-review".to_string(),
            role_claim: "roles".to_string(),
            department_claim: "department".to_string(),
            vendor_claim: "vendor".to_string(),
            leeway_seconds: 30,
        }
    }
}

const PREFIX: &str = "PROCUREMENT_REVIEW_";

impl Config {
    /// Loads the file (when given) and then the environment over it.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> anyhow::Result<Config> {
        let file = file.map(Path::to_path_buf).or_else(|| {
            env.iter()
                .find(|(k, _)| k == "PROCUREMENT_REVIEW_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading configuration file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("parsing configuration file {}", path.display()))?
            }
            None => Config::default(),
        };
        for (key, value) in env {
            if key == "DATABASE_URL"
                && !env
                    .iter()
                    .any(|(k, _)| k == "PROCUREMENT_REVIEW_DATABASE_URL")
            {
                config.database_url = Secret::new(value.clone());
            } else if let Some(name) = key.strip_prefix(PREFIX) {
                config
                    .set(&name.to_ascii_lowercase(), value)
                    .with_context(|| format!("environment variable {key}"))?;
            }
        }
        config.check()?;
        Ok(config)
    }

    fn set(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(value: &str) -> anyhow::Result<T>
        where
            T::Err: fmt::Display,
        {
            value
                .parse::<T>()
                .map_err(|e| anyhow::anyhow!("{value:?}: {e}"))
        }
        let a = &mut self.auth;
        match name {
            "config" => {}
            "database_url" => self.database_url = Secret::new(value),
            "database_max_connections" => self.database_max_connections = Some(parse(value)?),
            "listen" => self.listen = parse(value)?,
            "public_url" => self.public_url = value.to_string(),
            "log_format" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => bail!("{other:?} is not one of text, json"),
                }
            }
            "log_level" => self.log_level = value.to_string(),
            "max_body_bytes" => self.max_body_bytes = parse(value)?,
            "max_upload_bytes" => self.max_upload_bytes = parse(value)?,
            "max_concurrent_imports" => self.max_concurrent_imports = parse(value)?,
            "import_wait_ms" => self.import_wait_ms = parse(value)?,
            "shutdown_grace_seconds" => self.shutdown_grace_seconds = parse(value)?,
            "http_header_timeout_ms" => self.http_header_timeout_ms = parse(value)?,
            "http_body_timeout_ms" => self.http_body_timeout_ms = parse(value)?,
            "http_idle_timeout_ms" => self.http_idle_timeout_ms = parse(value)?,
            "http_max_connections" => self.http_max_connections = parse(value)?,
            "questionnaires_dir" => self.questionnaires_dir = Some(PathBuf::from(value)),
            "invitation_days" => self.invitation_days = parse(value)?,
            "jobs_interval_seconds" => self.jobs_interval_seconds = parse(value)?,
            "webhook_urls" => {
                self.webhook_urls = value
                    .split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            "webhook_secret" => self.webhook_secret = Some(Secret::new(value)),
            "tls_ca_file" => self.tls_ca_file = Some(PathBuf::from(value)),
            "mail_smtp_host" => self.mail.smtp_host = Some(value.to_string()),
            "mail_smtp_port" => self.mail.smtp_port = Some(parse(value)?),
            "mail_smtp_security" => {
                self.mail.smtp_security = match value {
                    "starttls" => SmtpSecurity::Starttls,
                    "tls" => SmtpSecurity::Tls,
                    "none" => SmtpSecurity::None,
                    other => bail!("{other:?} is not one of starttls, tls, none"),
                }
            }
            "mail_smtp_user" => self.mail.smtp_user = Some(value.to_string()),
            "mail_smtp_password" => self.mail.smtp_password = Some(Secret::new(value)),
            "mail_from" => self.mail.from = Some(value.to_string()),
            "mail_cio_office" => self.mail.cio_office = address_list(value),
            "mail_finance" => self.mail.finance = address_list(value),
            "mail_security" => self.mail.security = address_list(value),
            "mail_digest" => self.mail.digest = address_list(value),
            "mail_digest_hour_utc" => self.mail.digest_hour_utc = parse(value)?,
            "mail_department_contacts" => {
                // DOIT=a@x.example b@x.example;ISD=c@x.example
                let mut contacts = std::collections::BTreeMap::new();
                for entry in value.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                    let Some((code, addresses)) = entry.split_once('=') else {
                        bail!("{entry:?} is not CODE=address address...");
                    };
                    contacts.insert(
                        code.trim().to_string(),
                        addresses.split_whitespace().map(str::to_string).collect(),
                    );
                }
                self.mail.department_contacts = contacts;
            }
            "oidc_issuer_url" => self.oidc.issuer_url = Some(value.to_string()),
            "oidc_client_id" => self.oidc.client_id = Some(value.to_string()),
            "oidc_client_secret" => self.oidc.client_secret = Some(Secret::new(value)),
            "oidc_provider_name" => self.oidc.provider_name = value.to_string(),
            "auth_hs256_secret" => a.hs256_secret = Some(Secret::new(value)),
            "auth_jwt_public_key_file" => a.jwt_public_key_file = Some(PathBuf::from(value)),
            "auth_jwks_file" => a.jwks_file = Some(PathBuf::from(value)),
            "auth_issuer" => a.issuer = value.to_string(),
            "auth_audience" => a.audience = value.to_string(),
            "auth_role_claim" => a.role_claim = value.to_string(),
            "auth_department_claim" => a.department_claim = value.to_string(),
            "auth_vendor_claim" => a.vendor_claim = value.to_string(),
            "auth_leeway_seconds" => a.leeway_seconds = parse(value)?,
            other => bail!("unknown setting {other:?}"),
        }
        Ok(())
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.auth.jwt_public_key_file.is_some() && self.auth.jwks_file.is_some() {
            bail!("configure either auth.jwt_public_key_file or auth.jwks_file, not both");
        }
        if self.database_max_connections == Some(0) {
            bail!("database_max_connections must be at least 1");
        }
        if !(1..=365).contains(&self.invitation_days) {
            bail!("invitation_days must be from 1 to 365");
        }
        if !self.webhook_urls.is_empty() && self.webhook_secret.is_none() {
            bail!("webhook_urls needs webhook_secret, so that receivers can check the signature");
        }
        if let Some(url) = self
            .webhook_urls
            .iter()
            .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            bail!("webhook URL {url:?} must start with http:// or https://");
        }
        if self.max_body_bytes == 0 || self.max_upload_bytes == 0 {
            bail!("max_body_bytes and max_upload_bytes must be positive");
        }
        if self.max_concurrent_imports == 0 {
            bail!("max_concurrent_imports must be at least 1");
        }
        for (name, value) in [
            ("http_header_timeout_ms", self.http_header_timeout_ms),
            ("http_body_timeout_ms", self.http_body_timeout_ms),
            ("http_idle_timeout_ms", self.http_idle_timeout_ms),
        ] {
            if value == 0 {
                bail!(
                    "{name} must be positive: without it a client that stops sending holds its connection"
                );
            }
        }
        if self.http_max_connections == 0 {
            bail!("http_max_connections must be at least 1");
        }
        self.check_oidc()?;
        self.check_mail()
    }

    fn check_oidc(&self) -> anyhow::Result<()> {
        let o = &self.oidc;
        let given = [
            o.issuer_url.is_some(),
            o.client_id.is_some(),
            o.client_secret.is_some(),
        ];
        if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
            bail!("oidc.issuer_url, oidc.client_id and oidc.client_secret go together");
        }
        if let Some(url) = &o.issuer_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            bail!(
                "oidc.issuer_url {url:?} must start with https:// (or http:// for a local test provider)"
            );
        }
        if o.client_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
            bail!("oidc.client_id must not be empty");
        }
        if o.enabled()
            && !self.public_url.is_empty()
            && !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://"))
        {
            bail!(
                "public_url {:?} must start with https:// or http://",
                self.public_url
            );
        }
        Ok(())
    }

    fn check_mail(&self) -> anyhow::Result<()> {
        let mail = &self.mail;
        if mail.digest_hour_utc > 23 {
            bail!("mail.digest_hour_utc must be from 0 to 23");
        }
        if !mail.enabled() {
            return Ok(());
        }
        let Some(from) = &mail.from else {
            bail!("mail.smtp_host needs mail.from, the sender address");
        };
        if from.parse::<lettre::message::Mailbox>().is_err() {
            bail!("mail.from {from:?} is not an e-mail address");
        }
        if mail.smtp_user.is_some() != mail.smtp_password.is_some() {
            bail!("mail.smtp_user and mail.smtp_password go together");
        }
        let named = mail
            .cio_office
            .iter()
            .chain(&mail.finance)
            .chain(&mail.security)
            .chain(&mail.digest)
            .chain(mail.department_contacts.values().flatten());
        for address in named {
            if address.parse::<lettre::Address>().is_err() {
                bail!("{address:?} in the mail settings is not an e-mail address");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_serve_embedded_sqlite_on_localhost() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.database_url.expose(), "sqlite:procurement-review.db");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn environment_overrides_and_database_url_is_accepted() {
        let c = Config::load_from(
            None,
            &env(&[
                ("DATABASE_URL", "postgres://x/y"),
                ("PROCUREMENT_REVIEW_AUTH_ROLE_CLAIM", "groups"),
            ]),
        )
        .unwrap();
        assert_eq!(c.database_url.expose(), "postgres://x/y");
        assert_eq!(c.auth.role_claim, "groups");
        let c = Config::load_from(
            None,
            &env(&[
                ("DATABASE_URL", "postgres://x/y"),
                ("PROCUREMENT_REVIEW_DATABASE_URL", "sqlite:a.db"),
            ]),
        )
        .unwrap();
        assert_eq!(c.database_url.expose(), "sqlite:a.db");
    }

    #[test]
    fn unknown_settings_and_bad_values_are_refused_with_their_name() {
        let err = Config::load_from(None, &env(&[("PROCUREMENT_REVIEW_LISTN", "x")])).unwrap_err();
        assert!(format!("{err:#}").contains("PROCUREMENT_REVIEW_LISTN"));
        let err =
            Config::load_from(None, &env(&[("PROCUREMENT_REVIEW_LISTEN", "nowhere")])).unwrap_err();
        assert!(format!("{err:#}").contains("nowhere"));
    }

    #[test]
    fn webhook_urls_are_a_comma_separated_list_and_need_a_secret() {
        let err = Config::load_from(
            None,
            &env(&[("PROCUREMENT_REVIEW_WEBHOOK_URLS", "https://a.example/hook")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("webhook_secret"));
        let c = Config::load_from(
            None,
            &env(&[
                (
                    "PROCUREMENT_REVIEW_WEBHOOK_URLS",
                    "https://a.example/hook, http://b.example/x",
                ),
                ("PROCUREMENT_REVIEW_WEBHOOK_SECRET", "whsec"),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.webhook_urls,
            ["https://a.example/hook", "http://b.example/x"]
        );
        assert!(!format!("{c:?}").contains("whsec"));
    }

    #[test]
    fn import_concurrency_and_wait_are_read_from_the_file_and_the_environment() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!((c.max_concurrent_imports, c.import_wait_ms), (2, 10_000));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "max_concurrent_imports = 4\nimport_wait_ms = 250\n").unwrap();
        let c = Config::load_from(Some(&path), &[]).unwrap();
        assert_eq!((c.max_concurrent_imports, c.import_wait_ms), (4, 250));
        let c = Config::load_from(
            Some(&path),
            &env(&[
                ("PROCUREMENT_REVIEW_MAX_CONCURRENT_IMPORTS", "1"),
                ("PROCUREMENT_REVIEW_IMPORT_WAIT_MS", "0"),
            ]),
        )
        .unwrap();
        assert_eq!((c.max_concurrent_imports, c.import_wait_ms), (1, 0));

        let err = Config::load_from(
            None,
            &env(&[("PROCUREMENT_REVIEW_MAX_CONCURRENT_IMPORTS", "0")]),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("max_concurrent_imports must be at least 1"),
            "{err:#}"
        );
        std::fs::write(&path, "max_concurrent_imports = 0\n").unwrap();
        assert!(Config::load_from(Some(&path), &[]).is_err());
        let err = Config::load_from(None, &env(&[("PROCUREMENT_REVIEW_IMPORT_WAIT_MS", "soon")]))
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("PROCUREMENT_REVIEW_IMPORT_WAIT_MS"),
            "{err:#}"
        );
    }

    #[test]
    fn the_pool_size_is_the_backends_unless_configured_and_must_be_positive() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.database_max_connections, None);
        let sqlite = crate::store::Store::default_pool_size(&Secret::new("sqlite:x.db"));
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(sqlite, cores + 1, "SQLite readers: the cores plus one");
        assert_eq!(
            crate::store::Store::default_pool_size(&Secret::new("postgres://h/db")),
            10
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "database_max_connections = 7\n").unwrap();
        let c = Config::load_from(Some(&path), &[]).unwrap();
        assert_eq!(c.database_max_connections, Some(7));
        let c = Config::load_from(
            Some(&path),
            &env(&[("PROCUREMENT_REVIEW_DATABASE_MAX_CONNECTIONS", "2")]),
        )
        .unwrap();
        assert_eq!(c.database_max_connections, Some(2));
        let err = Config::load_from(
            None,
            &env(&[("PROCUREMENT_REVIEW_DATABASE_MAX_CONNECTIONS", "0")]),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("database_max_connections must be at least 1"),
            "{err:#}"
        );
    }

    #[test]
    fn edge_limits_have_defaults_are_read_from_the_file_and_the_environment_and_must_be_positive() {
        let c = Config::load_from(None, &[]).unwrap();
        let edge = |c: &Config| {
            (
                c.http_header_timeout_ms,
                c.http_body_timeout_ms,
                c.http_idle_timeout_ms,
                c.http_max_connections,
            )
        };
        assert_eq!(edge(&c), (10_000, 60_000, 75_000, 512));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "http_header_timeout_ms = 2000\nhttp_max_connections = 64\n",
        )
        .unwrap();
        let c = Config::load_from(
            Some(&path),
            &env(&[
                ("PROCUREMENT_REVIEW_HTTP_BODY_TIMEOUT_MS", "30000"),
                ("PROCUREMENT_REVIEW_HTTP_IDLE_TIMEOUT_MS", "5000"),
            ]),
        )
        .unwrap();
        assert_eq!(edge(&c), (2000, 30_000, 5000, 64));
        for name in [
            "HTTP_HEADER_TIMEOUT_MS",
            "HTTP_BODY_TIMEOUT_MS",
            "HTTP_IDLE_TIMEOUT_MS",
            "HTTP_MAX_CONNECTIONS",
        ] {
            let err =
                Config::load_from(None, &env(&[(&format!("PROCUREMENT_REVIEW_{name}"), "0")]))
                    .unwrap_err();
            assert!(
                format!("{err:#}").contains(&name.to_ascii_lowercase()),
                "{err:#}"
            );
        }
    }

    #[test]
    fn mail_settings_are_read_checked_and_the_password_never_prints() {
        let c = Config::load_from(None, &[]).unwrap();
        assert!(!c.mail.enabled());
        assert_eq!(c.mail.digest_hour_utc, 7);
        let err = Config::load_from(
            None,
            &env(&[("PROCUREMENT_REVIEW_MAIL_SMTP_HOST", "smtp.city.example")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("mail.from"), "{err:#}");
        let c = Config::load_from(
            None,
            &env(&[
                ("PROCUREMENT_REVIEW_MAIL_SMTP_HOST", "smtp.city.example"),
                ("PROCUREMENT_REVIEW_MAIL_SMTP_SECURITY", "tls"),
                ("PROCUREMENT_REVIEW_MAIL_SMTP_USER", "pr"),
                ("PROCUREMENT_REVIEW_MAIL_SMTP_PASSWORD", "smtp-pw-123"),
                ("PROCUREMENT_REVIEW_MAIL_FROM", "Review <pr@city.example>"),
                (
                    "PROCUREMENT_REVIEW_MAIL_CIO_OFFICE",
                    "cio@city.example, deputy@city.example",
                ),
                (
                    "PROCUREMENT_REVIEW_MAIL_DEPARTMENT_CONTACTS",
                    "DOIT=a@city.example b@city.example;ISD=c@city.example",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(c.mail.port(), 465);
        assert_eq!(
            c.mail.cio_office,
            ["cio@city.example", "deputy@city.example"]
        );
        assert_eq!(
            c.mail.department_contacts["DOIT"],
            ["a@city.example", "b@city.example"]
        );
        assert!(!format!("{c:?}").contains("smtp-pw-123"));
        for (name, value, said) in [
            ("MAIL_SMTP_SECURITY", "ssl", "starttls, tls, none"),
            ("MAIL_CIO_OFFICE", "not an address", "not an e-mail address"),
            ("MAIL_DIGEST_HOUR_UTC", "24", "digest_hour_utc"),
            ("MAIL_SMTP_USER", "only-user", "go together"),
        ] {
            let mut vars = vec![
                ("PROCUREMENT_REVIEW_MAIL_SMTP_HOST", "h"),
                ("PROCUREMENT_REVIEW_MAIL_FROM", "pr@city.example"),
            ];
            let key = format!("PROCUREMENT_REVIEW_{name}");
            vars.push((&key, value));
            let err = Config::load_from(None, &env(&vars)).unwrap_err();
            assert!(format!("{err:#}").contains(said), "{name}: {err:#}");
        }
    }

    #[test]
    fn oidc_settings_go_together_and_the_client_secret_never_prints() {
        let c = Config::load_from(
            None,
            &env(&[
                (
                    "PROCUREMENT_REVIEW_OIDC_ISSUER_URL",
                    "https://id.city.example",
                ),
                ("PROCUREMENT_REVIEW_OIDC_CLIENT_ID", "procurement"),
                ("PROCUREMENT_REVIEW_OIDC_CLIENT_SECRET", "oidc-s3cret"),
                ("PROCUREMENT_REVIEW_OIDC_PROVIDER_NAME", "CityID"),
            ]),
        )
        .unwrap();
        assert!(c.oidc.enabled());
        assert_eq!(c.oidc.provider_name, "CityID");
        assert!(!format!("{c:?}").contains("oidc-s3cret"));
        let err = Config::load_from(
            None,
            &env(&[(
                "PROCUREMENT_REVIEW_OIDC_ISSUER_URL",
                "https://id.city.example",
            )]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("go together"), "{err:#}");
        let err = Config::load_from(
            None,
            &env(&[
                ("PROCUREMENT_REVIEW_OIDC_ISSUER_URL", "id.city.example"),
                ("PROCUREMENT_REVIEW_OIDC_CLIENT_ID", "procurement"),
                ("PROCUREMENT_REVIEW_OIDC_CLIENT_SECRET", "x"),
            ]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("https://"), "{err:#}");
        assert!(!Config::default().oidc.enabled());
    }

    #[test]
    fn toml_file_is_read_and_secrets_do_not_print() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "database_url = \"postgres://u:pw@h/db\"\n[auth]\nhs256_secret = \"s3cret-value\"\n",
        )
        .unwrap();
        let c = Config::load_from(Some(&path), &[]).unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("s3cret-value"));
        assert!(!printed.contains("pw@"));
        assert_eq!(c.auth.hs256_secret.unwrap().expose(), "s3cret-value");
    }
}
