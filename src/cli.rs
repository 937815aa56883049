//! The command line: `serve` (default), `migrate`, `openapi`, `token`, `audit verify`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::auth::{MintRequest, Role, Verifier};
use crate::config::Config;
use crate::domain::text_forms::one_of;
use crate::startup::{Application, open_existing_store, open_store, shutdown_signal, spec_yaml};

#[derive(Debug, Parser)]
#[command(
    name = "procurement-review",
    version,
    about = "Security review and approval routing for a city's technology purchases"
)]
pub struct Cli {
    /// TOML configuration file (also PROCUREMENT_REVIEW_CONFIG). Environment variables override it.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default). Applies migrations first.
    ///
    /// Staff sign in to the web console through an OpenID Connect provider when PROCUREMENT_REVIEW_OIDC_ISSUER_URL,
    /// _OIDC_CLIENT_ID and _OIDC_CLIENT_SECRET are set (or [oidc] issuer_url, client_id, client_secret in the file);
    /// register {public_url}/login/oidc/callback as the redirect URI with the provider, and {public_url}/?signed_out=1
    /// as the post-logout redirect URI when it signs people out (end_session_endpoint). See README, "Web console".
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides PROCUREMENT_REVIEW_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as YAML.
    Openapi,
    /// Mint a staff token for the embedded default (HS256, this instance's secret).
    Token {
        /// buyer, vendor, security_analyst, cio, finance, admin or auditor.
        #[arg(long)]
        role: String,
        /// The subject (user id) the token names.
        #[arg(long)]
        sub: String,
        /// Department code; required for buyers.
        #[arg(long)]
        department: Option<String>,
        /// Vendor id; required for vendors.
        #[arg(long)]
        vendor: Option<Uuid>,
        /// Lifetime, e.g. 3600, 30m, 12h, 7d.
        #[arg(long, default_value = "12h")]
        ttl: String,
    },
    /// Print a one-time sign-in link to the web console (embedded mode): it works once, within 15 minutes.
    LoginLink {
        /// buyer, vendor, security_analyst, cio, finance, admin or auditor.
        #[arg(long)]
        role: String,
        /// The subject (user id) the session names.
        #[arg(long)]
        sub: String,
        /// Department code; required for buyers.
        #[arg(long)]
        department: Option<String>,
        /// Vendor id; required for vendors.
        #[arg(long)]
        vendor: Option<Uuid>,
    },
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the whole hash chain and every verification checkpoint, with progress on stderr; exits 1 and
    /// names each edited, removed or inserted record when it is broken. When intact, writes a full checkpoint.
    Verify {
        /// A checkpoint's number and hash as recorded outside the database (`12:3fa4...`): the verification
        /// fails unless that checkpoint still has that hash. Repeatable.
        #[arg(long, value_name = "NUMBER:HASH")]
        anchor: Vec<String>,
    },
}

/// `NUMBER:HASH` of `--anchor`.
fn parse_anchor(text: &str) -> anyhow::Result<(i64, String)> {
    let (number, hash) = text
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("--anchor {text:?} is not NUMBER:HASH"))?;
    let number = number
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--anchor {text:?}: {number:?} is not a checkpoint number"))?;
    Ok((number, hash.trim().to_ascii_lowercase()))
}

/// Prints progress to stderr at most once a second: records done, percent, records per second.
struct ProgressLine {
    started: Instant,
    last: Instant,
}

impl ProgressLine {
    fn report(&mut self, done: i64, total: i64) {
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_secs(1) && done < total {
            return;
        }
        self.last = now;
        let percent = if total > 0 {
            done as f64 * 100.0 / total as f64
        } else {
            100.0
        };
        eprintln!(
            "verified {done} of {total} records ({percent:.1}%), {:.0} records/s",
            rate(done, now.duration_since(self.started))
        );
    }
}

fn rate(records: i64, elapsed: Duration) -> f64 {
    records as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// The role `--role` names, or an error listing the roles there are.
fn role_arg(role: &str) -> anyhow::Result<Role> {
    Role::try_from(role)
        .map_err(|_| anyhow::anyhow!("--role {role:?} is not one of {}", one_of::<Role>()))
}

pub fn parse_ttl(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 3600, 30m, 12h or 7d"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    if n <= 0 {
        return Err("the lifetime must be positive".into());
    }
    n.checked_mul(scale)
        .ok_or_else(|| "the lifetime is too long".to_string())
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Openapi) = cli.command {
        print!("{}", spec_yaml());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Option<Command>, mut config: Config) -> anyhow::Result<ExitCode> {
    match command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            crate::telemetry::init(config.log_format, &config.log_level)?;
            let app = Application::build(config.clone()).await?;
            tracing::info!(
                address = %app.addr(),
                database = app.store().backend(),
                "serving; API docs at http://{}/docs",
                app.addr()
            );
            if config.auth.jwt_public_key_file.is_none() && config.auth.jwks_file.is_none() {
                tracing::info!(
                    "embedded mode: mint a token with `procurement-review token --role admin --sub you`"
                );
            }
            app.run_until(shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let (store, _) = open_store(&config).await?;
            println!("migrations applied ({})", store.backend());
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => unreachable!("handled before the runtime starts"),
        Command::Token {
            role,
            sub,
            department,
            vendor,
            ttl,
        } => {
            let role = role_arg(&role)?;
            let ttl_seconds = parse_ttl(&ttl).map_err(|e| anyhow::anyhow!("--ttl {e}"))?;
            let (store, secret) = open_existing_store(&config).await?;
            store.close().await;
            let verifier = Verifier::new(&config.auth, &secret)?;
            let token = verifier.mint(&MintRequest {
                role,
                subject: sub,
                department: department.map(|d| d.trim().to_ascii_uppercase()),
                vendor,
                ttl_seconds,
            })?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::LoginLink {
            role,
            sub,
            department,
            vendor,
        } => {
            let role = role_arg(&role)?;
            let (store, secret) = open_existing_store(&config).await?;
            let verifier = Verifier::new(&config.auth, &secret)?;
            let base = if config.public_url.is_empty() {
                format!("http://{}", config.listen)
            } else {
                config.public_url.clone()
            };
            let link = crate::console::session::issue_login_link(
                &store,
                &verifier,
                &base,
                &crate::console::session::LoginLinkRequest {
                    role,
                    subject: sub,
                    department: department.map(|d| d.trim().to_ascii_uppercase()),
                    vendor,
                },
            )
            .await;
            store.close().await;
            println!("{}", link?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { anchor },
        } => {
            let anchors = anchor
                .iter()
                .map(|a| parse_anchor(a))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (store, _) = open_existing_store(&config).await?;
            let started = Instant::now();
            let mut line = ProgressLine {
                started,
                last: started,
            };
            let report = store
                .verify_audit_full("cli", &mut |done, total| line.report(done, total))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let elapsed = started.elapsed();
            let mut faults: Vec<String> = report
                .faults
                .iter()
                .map(|f| format!("seq {}: {}", f.seq, f.problem))
                .collect();
            for (number, hash) in &anchors {
                let kept = store
                    .audit_checkpoint(*number)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                match kept {
                    Some(cp) if cp.hash == *hash => {}
                    Some(cp) => faults.push(format!(
                        "anchor: checkpoint {number} has hash {}, not the {hash} recorded outside the database",
                        cp.hash
                    )),
                    None => faults.push(format!("anchor: checkpoint {number} is missing")),
                }
            }
            store.close().await;
            println!(
                "{} records in {:.1} s ({:.0} records/s)",
                report.records,
                elapsed.as_secs_f64(),
                rate(report.records, elapsed)
            );
            if faults.is_empty() {
                println!(
                    "audit chain intact: {} records, head at {}",
                    report.records, report.head_seq
                );
                if let Some(cp) = &report.checkpoint {
                    println!(
                        "checkpoint {} (record {}): {} — keep `{}:{}` outside the database to anchor the chain",
                        cp.number, cp.verified_seq, cp.hash, cp.number, cp.hash
                    );
                }
                Ok(ExitCode::SUCCESS)
            } else {
                println!("audit chain BROKEN ({} records checked):", report.records);
                for fault in &faults {
                    println!("  {fault}");
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("3600"), Ok(3600));
        assert_eq!(parse_ttl("30m"), Ok(1800));
        assert_eq!(parse_ttl("12h"), Ok(43200));
        assert_eq!(parse_ttl("7d"), Ok(604800));
        assert!(parse_ttl("0").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("abc").is_err());
    }
}
