//! The `byoc` command line: `demo [--once] [--contact-center C]`, `serve --config`,
//! `check --config`, `channel register [create|update|list|delete] --config --channel`,
//! `normalize --channel <provider> [FILE]`.
//!
//! Exit codes: 0 success; 1 a failure while running (the demo names the hop); 2 bad input
//! (an invalid config, a payload that does not normalize, bad arguments).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
#[cfg(feature = "demo")]
use crate::demo::DemoContactCenter;
use crate::normalize::{Provider, normalize_payload, to_lines};
use crate::relay::register::Action;

#[derive(Debug, Parser)]
#[command(
    name = "byoc",
    version,
    about = "byoc: bring your own channel to a contact center"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The gateway, every simulator and a sample bot on loopback, with nothing configured.
    #[cfg(feature = "demo")]
    Demo {
        /// Drive one scripted conversation through every hop and exit (0, or 1 naming the
        /// hop that failed).
        #[arg(long)]
        once: bool,
        /// The contact center: byoc's own, or a platform's simulator the gateway relays to.
        #[arg(long, value_enum, default_value_t = DemoContactCenter::Byoc)]
        contact_center: DemoContactCenter,
    },
    /// Run the gateway.
    Serve {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Validate a configuration file without starting.
    Check {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Contact-center channel records.
    Channel {
        #[command(subcommand)]
        command: ChannelCommand,
    },
    /// Print the canonical activities of one provider payload, one compact JSON per line.
    Normalize {
        /// Whose payload it is.
        #[arg(long, value_enum)]
        channel: Provider,
        /// The payload file; standard input when absent.
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ChannelCommand {
    /// Create, update, list or delete the Dataverse record of a `messaging-api` channel
    /// entry (`msdyn_occustommessagingchannel`), with the entry's credentials.
    Register {
        /// What to do.
        #[arg(value_enum, default_value = "create")]
        action: Action,
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// The `[channels.NAME]` entry (`kind = "messaging-api"`).
        #[arg(long)]
        channel: String,
        /// The record id (update, delete); the entry's `channel_id` when absent.
        #[arg(long)]
        id: Option<String>,
    },
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the command line (`std::env::args`).
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Normalize { channel, file } => normalize(channel, file),
        Command::Check { config } => match Config::load(&config) {
            Ok(c) => {
                println!(
                    "{}: ok ({} channel(s), {} bot(s), {} workstream(s), {} agent(s))",
                    config.display(),
                    c.channels.len(),
                    c.bots.len(),
                    c.workstreams.len(),
                    c.agents.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Serve { config } => {
            init_tracing("info");
            let config = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            runtime(async move {
                match crate::gateway::start(config).await {
                    Ok(gw) => {
                        println!("listening on {}", gw.url());
                        let _ = std::io::stdout().flush();
                        gw.run_until_signal().await;
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
        Command::Channel {
            command:
                ChannelCommand::Register {
                    action,
                    config,
                    channel,
                    id,
                },
        } => {
            init_tracing("warn");
            let config = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            runtime(async move {
                match crate::relay::register::run(&config, &channel, action, id.as_deref()).await {
                    Ok(lines) => {
                        for l in lines {
                            println!("{l}");
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
        #[cfg(feature = "demo")]
        Command::Demo {
            once,
            contact_center,
        } => {
            init_tracing("warn");
            runtime(async move {
                match crate::demo::run_with(once, contact_center).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("byoc demo: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
    }
}

fn runtime(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

fn normalize(channel: Provider, file: Option<PathBuf>) -> ExitCode {
    let mut payload = Vec::new();
    let read = match &file {
        Some(path) => std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut payload)),
        None => std::io::stdin().read_to_end(&mut payload),
    };
    if let Err(e) = read {
        eprintln!("error: cannot read the payload: {e}");
        return ExitCode::from(2);
    }
    match normalize_payload(channel, &payload) {
        Ok(activities) => match to_lines(&activities) {
            Ok(lines) => {
                let mut out = std::io::stdout().lock();
                if out
                    .write_all(lines.as_bytes())
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    return ExitCode::FAILURE;
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write the activities: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            // The error names the field at fault (`bad request (field `x`): ...`).
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
