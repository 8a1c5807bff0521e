//! `byoc-sim salesforce`: the Salesforce simulator standalone.

use std::time::Duration;

use clap::Parser;

use super::{SalesforceSim, SimConfig, TEST_CERTIFICATE_PEM, TEST_PRIVATE_KEY_PEM};

/// `byoc-sim salesforce`: the Salesforce simulator standalone.
#[derive(Parser, Debug)]
#[command(
    name = "byoc-sim salesforce",
    about = "Salesforce token endpoint, Interaction Service and Pub/Sub simulator"
)]
struct Cli {
    /// REST port (token endpoint and /api/v1).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Pub/Sub gRPC port.
    #[arg(long, default_value_t = 0)]
    grpc_port: u16,
    /// Consumer key of the connected app (`SF_CONSUMER_KEY`).
    #[arg(long)]
    consumer_key: Option<String>,
    /// Username (`SF_SUBJECT`).
    #[arg(long)]
    username: Option<String>,
    /// File with the connected app's X.509 certificate PEM (as uploaded to the app).
    #[arg(long, conflicts_with = "public_key")]
    certificate: Option<std::path::PathBuf>,
    /// File with the connected app's bare RSA public key PEM.
    #[arg(long)]
    public_key: Option<std::path::PathBuf>,
    /// Seconds between Pub/Sub keep-alives on an idle Subscribe stream.
    #[arg(long, default_value_t = 270)]
    keepalive_secs: u64,
    /// Org id (`SF_ORG_ID`).
    #[arg(long)]
    org_id: Option<String>,
    /// CCD developer name (`SF_AUTHORIZATION_CONTEXT`).
    #[arg(long)]
    authorization_context: Option<String>,
    /// Channel address identifier.
    #[arg(long)]
    channel_address: Option<String>,
    /// The JWT `aud` the token endpoint accepts besides this simulator's own URL, e.g.
    /// `https://login.salesforce.com` (what a client configured for production sends).
    #[arg(long)]
    audience: Option<String>,
    /// The password (with the security token appended) of `--username` for the SOAP
    /// `login` call; a built-in test password when absent.
    #[arg(long)]
    password: Option<String>,
    #[command(flatten)]
    tls: crate::tls::TlsArgs,
}

/// Runs this simulator from the command line (`args[0]` is the subcommand name).
///
/// # Errors
/// Bad arguments, a port in use, an unreadable key.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(args)?;
    let mut cfg = SimConfig::default();
    let builtin =
        cli.consumer_key.is_none() && cli.public_key.is_none() && cli.certificate.is_none();
    if let Some(v) = cli.consumer_key {
        cfg.consumer_key = v;
    }
    if let Some(v) = cli.username {
        cfg.username = v;
    }
    if let Some(p) = cli.certificate {
        cfg = cfg.with_certificate(std::fs::read_to_string(p)?);
    }
    if let Some(p) = cli.public_key {
        cfg = cfg.with_public_key(std::fs::read_to_string(p)?);
    }
    cfg.keepalive = Duration::from_secs(cli.keepalive_secs);
    if let Some(v) = cli.org_id {
        cfg.org_id = v;
    }
    if let Some(v) = cli.authorization_context {
        cfg.authorization_context = v;
    }
    if let Some(v) = cli.channel_address {
        cfg.channel_address = v;
    }
    if let Some(v) = cli.audience {
        cfg.audience = Some(v);
    }
    let builtin_password = cli.password.is_none();
    if let Some(v) = cli.password {
        cfg.password = v;
    }
    cfg.tls = cli.tls.ca()?;
    let sim = SalesforceSim::start_on(cfg, cli.port, cli.grpc_port).await?;
    println!("listening on {}", sim.url());
    crate::tls::print_ca(sim.ca());
    println!("pubsub on {}", sim.pubsub_url());
    let c = sim.config();
    println!("audience (login host): {}", sim.audience());
    println!("org id: {}", c.org_id);
    println!("authorization context: {}", c.authorization_context);
    println!("channel address: {}", c.channel_address);
    println!(
        "topic: /event/{} (fields {}, {})",
        c.platform_event, c.event_type_field, c.payload_field
    );
    if builtin {
        println!("consumer key: {}", c.consumer_key);
        println!("username: {}", c.username);
        if builtin_password {
            println!("password (SOAP login, test only): {}", c.password);
        }
        println!("private key (test only):\n{}", TEST_PRIVATE_KEY_PEM.trim());
        println!("certificate:\n{}", TEST_CERTIFICATE_PEM.trim());
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
