//! Validation of the raw config: every error names the file, the field and the reason.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use byoc_core::Secret;
use byoc_core::workstream::{MemberKind, Workstream};

use super::raw::{self, RawChannel, RawConfig, RawSecret};
use super::{
    AgentConfig, AgentPassword, BotConfig, ChannelConfig, ChannelKind, Config, ConfigError,
    EnvLookup, OutboxSettings, ProcessingPriority, ServerSettings, StoreSettings, WorkstreamConfig,
    first_line, parse_duration,
};

pub(super) struct Validator<'a> {
    pub(super) path: &'a Path,
    pub(super) env: EnvLookup<'a>,
}

impl Validator<'_> {
    pub(super) fn err(&self, field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::new(self.path, field, reason)
    }

    fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    pub(super) fn secret(&self, field: &str, raw: &RawSecret) -> Result<Secret, ConfigError> {
        let value = match raw {
            RawSecret::Inline(v) => v.clone(),
            RawSecret::Env { env } => (self.env)(env)
                .ok_or_else(|| self.err(field, format!("environment variable {env} is not set")))?,
        };
        if value.is_empty() {
            return Err(self.err(field, "is empty"));
        }
        Ok(Secret::new(value))
    }

    pub(super) fn duration(
        &self,
        field: &str,
        raw: Option<&str>,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match raw {
            None => Ok(default),
            Some(text) => parse_duration(text).ok_or_else(|| {
                self.err(
                    field,
                    format!("`{text}` is not a duration (500ms, 30s, 5m, 8h, 7d)"),
                )
            }),
        }
    }

    pub(super) fn url(&self, field: &str, url: &str) -> Result<String, ConfigError> {
        if url.starts_with("http://") || url.starts_with("https://") {
            Ok(url.trim_end_matches('/').to_owned())
        } else {
            Err(self.err(field, "must be an http:// or https:// URL"))
        }
    }

    pub(super) fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let server = self.server(&raw.server)?;
        let store = self.store(raw.store.as_ref())?;
        let admin_token = raw
            .admin
            .as_ref()
            .map(|a| self.secret("admin.token", &a.token))
            .transpose()?;
        let outbox = self.outbox(&raw.outbox)?;
        let mut channels = Vec::new();
        for (name, ch) in &raw.channels {
            channels.push(self.channel(name, ch)?);
        }
        let mut bots = Vec::new();
        for (id, bot) in &raw.bots {
            let field = format!("bots.{id}");
            check_name(id).map_err(|r| self.err(&field, r))?;
            bots.push(BotConfig {
                id: id.clone(),
                directline_url: match &bot.directline_url {
                    Some(u) => self.url(&format!("{field}.directline_url"), u)?,
                    None => "https://directline.botframework.com/v3/directline".to_owned(),
                },
                secret: self.secret(&format!("{field}.secret"), &bot.secret)?,
                poll_interval: self.duration(
                    &format!("{field}.poll_interval"),
                    bot.poll_interval.as_deref(),
                    Duration::from_secs(1),
                )?,
            });
        }
        let agents = self.agents(&raw.agents)?;
        let mut workstreams = Vec::new();
        for (i, ws) in raw.workstreams.iter().enumerate() {
            workstreams.push(self.workstream(i, ws)?);
        }
        let config = Config {
            file: self.path.to_path_buf(),
            server,
            store,
            admin_token,
            outbox,
            channels,
            bots,
            workstreams,
            agents,
        };
        self.cross_check(&config)?;
        Ok(config)
    }

    fn server(&self, raw: &raw::RawServer) -> Result<ServerSettings, ConfigError> {
        let d = ServerSettings::default();
        let listen = match &raw.listen {
            None => d.listen,
            Some(l) => l.parse().map_err(|_| {
                self.err(
                    "server.listen",
                    format!("`{l}` is not an address such as 127.0.0.1:8080"),
                )
            })?,
        };
        let max_body_bytes = raw.max_body_bytes.unwrap_or(d.max_body_bytes);
        if max_body_bytes < 1024 {
            return Err(self.err("server.max_body_bytes", "must be at least 1024"));
        }
        let max_conversation_workers = raw
            .max_conversation_workers
            .unwrap_or(d.max_conversation_workers);
        if max_conversation_workers == 0 {
            return Err(self.err("server.max_conversation_workers", "must be at least 1"));
        }
        let processing_threads = raw.processing_threads.unwrap_or(d.processing_threads);
        if !(1..=1024).contains(&processing_threads) {
            return Err(self.err("server.processing_threads", "must be 1 to 1024"));
        }
        let processing_priority = match raw.processing_priority.as_deref() {
            None => d.processing_priority,
            Some("low") => ProcessingPriority::Low,
            Some("normal") => ProcessingPriority::Normal,
            Some(other) => {
                return Err(self.err(
                    "server.processing_priority",
                    format!("`{other}` is not `low` or `normal`"),
                ));
            }
        };
        let max_inbox_backlog = raw.max_inbox_backlog.unwrap_or(d.max_inbox_backlog);
        if max_inbox_backlog == 0 {
            return Err(self.err("server.max_inbox_backlog", "must be at least 1"));
        }
        Ok(ServerSettings {
            listen,
            max_body_bytes,
            dedupe_retention: self.duration(
                "server.dedupe_retention",
                raw.dedupe_retention.as_deref(),
                d.dedupe_retention,
            )?,
            session_ttl: self.duration(
                "server.session_ttl",
                raw.session_ttl.as_deref(),
                d.session_ttl,
            )?,
            max_conversation_workers,
            processing_threads,
            processing_priority,
            processing_yield_at: raw.processing_yield_at.unwrap_or(d.processing_yield_at),
            max_inbox_backlog,
            shutdown_grace: self.duration(
                "server.shutdown_grace",
                raw.shutdown_grace.as_deref(),
                d.shutdown_grace,
            )?,
        })
    }

    fn store(&self, raw: Option<&raw::RawStore>) -> Result<StoreSettings, ConfigError> {
        let Some(raw) = raw else {
            return Err(self.err("store", "missing: add [store] with sqlite = \"byoc.db\""));
        };
        if raw.postgres.is_some() {
            return Err(self.err(
                "store.postgres",
                "the PostgreSQL store is not available in this version; use sqlite",
            ));
        }
        let Some(file) = raw.sqlite.as_deref().filter(|f| !f.is_empty()) else {
            return Err(self.err("store.sqlite", "missing: the SQLite database file"));
        };
        let path = Path::new(file);
        let sqlite = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir().join(path)
        };
        let group_commit_max = raw.group_commit_max.unwrap_or(256);
        if group_commit_max == 0 {
            return Err(self.err("store.group_commit_max", "must be at least 1"));
        }
        Ok(StoreSettings {
            sqlite,
            group_commit_max,
        })
    }

    fn outbox(&self, raw: &raw::RawOutbox) -> Result<OutboxSettings, ConfigError> {
        let d = OutboxSettings::default();
        let s = OutboxSettings {
            max_attempts: raw.max_attempts.unwrap_or(d.max_attempts),
            base_delay: self.duration(
                "outbox.base_delay",
                raw.base_delay.as_deref(),
                d.base_delay,
            )?,
            max_delay: self.duration("outbox.max_delay", raw.max_delay.as_deref(), d.max_delay)?,
            lease: self.duration("outbox.lease", raw.lease.as_deref(), d.lease)?,
            concurrency: raw.concurrency.unwrap_or(d.concurrency),
            retry_budget_percent: raw.retry_budget_percent.unwrap_or(d.retry_budget_percent),
        };
        if s.max_attempts == 0 {
            return Err(self.err("outbox.max_attempts", "must be at least 1"));
        }
        if s.max_delay < s.base_delay {
            return Err(self.err(
                "outbox.max_delay",
                "must not be shorter than outbox.base_delay",
            ));
        }
        if s.lease < Duration::from_secs(5) {
            return Err(self.err(
                "outbox.lease",
                "must be at least 5s (longer than one delivery attempt)",
            ));
        }
        if s.concurrency == 0 {
            return Err(self.err("outbox.concurrency", "must be at least 1"));
        }
        if !(0.0..=1000.0).contains(&s.retry_budget_percent) {
            return Err(self.err("outbox.retry_budget_percent", "must be between 0 and 1000"));
        }
        Ok(s)
    }

    fn channel(&self, name: &str, raw: &RawChannel) -> Result<ChannelConfig, ConfigError> {
        let field = format!("channels.{name}");
        check_name(name).map_err(|r| self.err(&field, r))?;
        let kind = match raw {
            RawChannel::Telesign {
                customer_id,
                api_key,
                base_url,
                sender_id,
                previous_api_keys,
            } => {
                if customer_id.trim().is_empty() {
                    return Err(self.err(format!("{field}.customer_id"), "is empty"));
                }
                let api_key = self.secret(&format!("{field}.api_key"), api_key)?;
                byoc_telesign::ApiKey::new(api_key.clone())
                    .map_err(|e| self.err(format!("{field}.api_key"), e.to_string()))?;
                let mut previous = Vec::new();
                for (i, k) in previous_api_keys.iter().enumerate() {
                    previous.push(self.secret(&format!("{field}.previous_api_keys[{i}]"), k)?);
                }
                ChannelKind::Telesign {
                    customer_id: customer_id.clone(),
                    api_key,
                    base_url: base_url
                        .as_deref()
                        .map(|u| self.url(&format!("{field}.base_url"), u))
                        .transpose()?,
                    sender_id: sender_id.clone(),
                    previous_api_keys: previous,
                }
            }
            RawChannel::Connector {
                app_id,
                app_password,
                login_base_url,
                openid_metadata_url,
                issuer,
                tenant,
                trusted_service_urls,
            } => {
                if app_id.trim().is_empty() {
                    return Err(self.err(format!("{field}.app_id"), "is empty"));
                }
                let authority = match (login_base_url, openid_metadata_url, issuer) {
                    (None, None, None) => None,
                    (Some(l), Some(o), Some(i)) => Some((
                        self.url(&format!("{field}.login_base_url"), l)?,
                        self.url(&format!("{field}.openid_metadata_url"), o)?,
                        i.clone(),
                    )),
                    _ => {
                        return Err(self.err(
                            &field,
                            "login_base_url, openid_metadata_url and issuer go together",
                        ));
                    }
                };
                ChannelKind::Connector {
                    app_id: app_id.clone(),
                    app_password: self.secret(&format!("{field}.app_password"), app_password)?,
                    authority,
                    tenant: tenant.clone(),
                    trusted_service_urls: trusted_service_urls.clone(),
                }
            }
            RawChannel::MessagingApi(raw) => self.messaging_api(name, raw)?,
            RawChannel::Salesforce(raw) => self.salesforce(name, raw)?,
        };
        Ok(ChannelConfig {
            name: name.to_owned(),
            kind,
        })
    }

    fn agents(&self, raw: &[raw::RawAgent]) -> Result<Vec<AgentConfig>, ConfigError> {
        let mut seen = BTreeSet::new();
        let mut agents = Vec::new();
        for (i, a) in raw.iter().enumerate() {
            let field = format!("agents[{i}]");
            check_name(&a.id).map_err(|r| self.err(format!("{field}.id"), r))?;
            if !seen.insert(a.id.clone()) {
                return Err(self.err(
                    format!("{field}.id"),
                    format!("agent `{}` is listed twice", a.id),
                ));
            }
            let password = match (&a.password_hash, &a.password) {
                (Some(h), None) => {
                    argon2::PasswordHash::new(h).map_err(|e| {
                        self.err(
                            format!("{field}.password_hash"),
                            format!("not a PHC password hash: {e}"),
                        )
                    })?;
                    AgentPassword::Hash(h.clone())
                }
                (None, Some(p)) => {
                    AgentPassword::Plain(self.secret(&format!("{field}.password"), p)?)
                }
                (None, None) => {
                    return Err(self.err(&field, "needs password_hash or password"));
                }
                (Some(_), Some(_)) => {
                    return Err(self.err(&field, "give password_hash or password, not both"));
                }
            };
            agents.push(AgentConfig {
                id: a.id.clone(),
                name: a.name.clone(),
                password,
            });
        }
        Ok(agents)
    }

    fn workstream(
        &self,
        i: usize,
        raw: &raw::RawWorkstream,
    ) -> Result<WorkstreamConfig, ConfigError> {
        let field = format!("workstreams[{i}]");
        let contact_center = self.contact_center(&field, raw)?;
        let workstream = match (&raw.file, &raw.definition) {
            (Some(file), None) => {
                let path = self.base_dir().join(file);
                let text = std::fs::read(&path).map_err(|e| {
                    self.err(
                        format!("{field}.file"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                let parsed = if file.ends_with(".json") {
                    Workstream::from_json_slice(&text)
                } else {
                    let text = std::str::from_utf8(&text)
                        .map_err(|_| self.err(format!("{field}.file"), "not UTF-8"))?;
                    match super::platform::relayed_toml_defaults(text, &contact_center) {
                        Some(filled) => Workstream::from_toml_str(&filled),
                        None => Workstream::from_toml_str(text),
                    }
                };
                parsed.map_err(|e| {
                    ConfigError::new(&path, workstream_field(&e), workstream_reason(&e))
                })?
            }
            (None, Some(def)) => {
                let mut def = def.clone();
                super::platform::relayed_defaults(&mut def, &contact_center);
                let text = toml::to_string(&def)
                    .map_err(|e| self.err(format!("{field}.definition"), e.to_string()))?;
                Workstream::from_toml_str(&text).map_err(|e| {
                    let inner = workstream_field(&e);
                    let at = if inner.is_empty() {
                        format!("{field}.definition")
                    } else {
                        format!("{field}.definition.{inner}")
                    };
                    self.err(at, workstream_reason(&e))
                })?
            }
            (None, None) => return Err(self.err(&field, "needs file or definition")),
            (Some(_), Some(_)) => return Err(self.err(&field, "give file or definition, not both")),
        };
        Ok(WorkstreamConfig {
            workstream,
            contact_center,
            bot_timeout: self.duration(
                &format!("{field}.bot_timeout"),
                raw.bot_timeout.as_deref(),
                Duration::from_secs(30),
            )?,
        })
    }

    fn cross_check(&self, config: &Config) -> Result<(), ConfigError> {
        let mut bound = BTreeSet::new();
        for (i, wc) in config.workstreams.iter().enumerate() {
            let ws = &wc.workstream;
            let channel = &ws.channel.id;
            match config.channels.iter().find(|c| &c.name == channel) {
                None => {
                    return Err(self.err(
                        format!("workstreams[{i}].channel.id"),
                        format!("no channel named `{channel}` under [channels]"),
                    ));
                }
                Some(c) if c.kind.is_platform() => {
                    return Err(self.err(
                        format!("workstreams[{i}].channel.id"),
                        format!(
                            "`{channel}` is a {} contact center, not a customer channel; name it in `platform`",
                            c.kind.provider()
                        ),
                    ));
                }
                Some(_) => {}
            }
            self.check_platform(i, wc, config)?;
            if !bound.insert(channel.clone()) {
                return Err(self.err(
                    format!("workstreams[{i}].channel.id"),
                    format!("channel `{channel}` already has a workstream"),
                ));
            }
            // A relayed workstream's queue members are the platform's users, not byoc's.
            let queues = if wc.contact_center.is_relayed() {
                &[][..]
            } else {
                &ws.queues[..]
            };
            for (q, queue) in queues.iter().enumerate() {
                for (m, member) in queue.members.iter().enumerate() {
                    let at = format!("workstreams[{i}].queues[{q}].members[{m}].id");
                    match member.kind {
                        MemberKind::Bot if !config.bots.iter().any(|b| b.id == member.id) => {
                            return Err(
                                self.err(at, format!("no bot `{}` under [bots]", member.id))
                            );
                        }
                        MemberKind::Agent if !config.agents.iter().any(|a| a.id == member.id) => {
                            return Err(
                                self.err(at, format!("no agent `{}` under [[agents]]", member.id))
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}

fn workstream_field(e: &byoc_core::WorkstreamError) -> String {
    match e.path() {
        "." => String::new(),
        p => p.to_owned(),
    }
}

fn workstream_reason(e: &byoc_core::WorkstreamError) -> String {
    let text = e.to_string();
    let prefix = format!("{}: ", e.path());
    first_line(text.strip_prefix(&prefix).unwrap_or(&text))
}

/// Names (channels, bots, agents) are path segments and ids: letters, digits, `-`, `_`, `.`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a name is 1 to 64 characters".to_owned());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!(
            "`{name}` may hold only letters, digits, `-`, `_` and `.`"
        ));
    }
    Ok(())
}
