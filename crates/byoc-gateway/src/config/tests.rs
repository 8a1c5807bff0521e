use std::path::Path;

use super::*;

const VALID: &str = r#"
[server]
listen = "127.0.0.1:0"

[store]
sqlite = "data/byoc.db"

[admin]
token = { env = "ADMIN" }

[channels.sms]
kind = "telesign"
customer_id = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890"
api_key = { env = "TS_KEY" }
base_url = "http://127.0.0.1:9/"

[bots.helper]
directline_url = "http://127.0.0.1:9/v3/directline"
secret = "s3cret"

[[workstreams]]
bot_timeout = "5s"
[workstreams.definition]
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }
[[workstreams.definition.routing_rules]]
name = "All"
queue = "Bots"
[[workstreams.definition.queues]]
name = "Bots"
members = [{ id = "helper", kind = "bot" }]
[[workstreams.definition.queues]]
name = "Humans"
members = [{ id = "alice", kind = "agent", capacity = 2 }]

[[agents]]
id = "alice"
password = { env = "ALICE_PW" }
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "ADMIN" => Some("admin-token".into()),
        "TS_KEY" => Some(byoc_sim::telesign::TEST_API_KEY.into()),
        "ALICE_PW" => Some("pw".into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, Path::new("/etc/byoc/byoc.toml"), &env)
}

#[test]
fn a_valid_config_loads_with_defaults_and_resolved_paths() {
    let c = load(VALID).unwrap();
    assert_eq!(c.store.sqlite, Path::new("/etc/byoc/data/byoc.db"));
    assert_eq!(c.channels[0].name, "sms");
    assert_eq!(c.bots[0].directline_url, "http://127.0.0.1:9/v3/directline");
    assert_eq!(c.workstreams[0].bot_timeout, Duration::from_secs(5));
    assert_eq!(c.outbox.max_attempts, 10);
    assert!(c.workstream_for("sms").is_some());
    assert!(matches!(c.agents[0].password, AgentPassword::Plain(_)));
}

#[test]
fn debug_output_never_shows_secrets() {
    let c = load(VALID).unwrap();
    let text = format!("{c:?}");
    assert!(!text.contains("s3cret"));
    assert!(!text.contains("admin-token"));
    assert!(!text.contains("TE8sTgg45"));
}

fn error_of(from: &str, to: &str) -> ConfigError {
    let text = VALID.replace(from, to);
    assert_ne!(text, VALID, "the replacement must change the config");
    load(&text).unwrap_err()
}

#[test]
fn each_invalid_field_is_named_with_the_file_and_the_reason() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "{ env = \"TS_KEY\" }",
            "{ env = \"MISSING\" }",
            "channels.sms.api_key",
            "environment variable MISSING is not set",
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = \"nowhere\"",
            "server.listen",
            "is not an address",
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = \"127.0.0.1:0\"\nprocessing_priority = \"urgent\"",
            "server.processing_priority",
            "is not `low` or `normal`",
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = \"127.0.0.1:0\"\nmax_inbox_backlog = 0",
            "server.max_inbox_backlog",
            "must be at least 1",
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = \"127.0.0.1:0\"\nprocessing_threads = 0",
            "server.processing_threads",
            "must be 1 to 1024",
        ),
        (
            "bot_timeout = \"5s\"",
            "bot_timeout = \"soon\"",
            "workstreams[0].bot_timeout",
            "is not a duration",
        ),
        (
            "kind = \"telesign\"",
            "kind = \"pigeon\"",
            "channels.sms.kind",
            "unknown variant",
        ),
        (
            "{ id = \"helper\", kind = \"bot\" }",
            "{ id = \"robot\", kind = \"bot\" }",
            "workstreams[0].queues[0].members[0].id",
            "no bot `robot`",
        ),
        (
            "id = \"alice\"\npassword",
            "id = \"bob\"\npassword",
            "workstreams[0].queues[1].members[0].id",
            "no agent `alice`",
        ),
        (
            "channel = { kind = \"sms\", id = \"sms\" }",
            "channel = { kind = \"sms\", id = \"whatsapp\" }",
            "workstreams[0].channel.id",
            "no channel named `whatsapp`",
        ),
        (
            "queue = \"Bots\"",
            "queue = \"Nowhere\"",
            "workstreams[0].definition.routing_rules[0].queue",
            "unknown queue `Nowhere`",
        ),
        (
            "sqlite = \"data/byoc.db\"",
            "postgres = \"postgres://x\"",
            "store.postgres",
            "not available",
        ),
        (
            "bot_timeout = \"5s\"",
            "contact_center = \"zendesk\"",
            "workstreams[0].contact_center",
            "unknown contact center",
        ),
        (
            "[admin]",
            "[admin]\nsurprise = 1",
            "admin.surprise",
            "unknown field `surprise`",
        ),
    ];
    for (from, to, field, reason) in cases {
        let e = error_of(from, to);
        assert_eq!(e.file, Path::new("/etc/byoc/byoc.toml"), "{to}");
        assert_eq!(&e.field, field, "{to}: {e}");
        assert!(e.reason.contains(reason), "{to}: {e}");
        let shown = e.to_string();
        assert!(shown.starts_with("/etc/byoc/byoc.toml: `"), "{shown}");
    }
}

#[test]
fn a_missing_store_is_refused() {
    let e = error_of("[store]\nsqlite = \"data/byoc.db\"", "");
    assert_eq!(e.field, "store");
}

#[test]
fn a_bad_password_hash_is_refused() {
    let e = error_of(
        "password = { env = \"ALICE_PW\" }",
        "password_hash = \"not-a-hash\"",
    );
    assert_eq!(e.field, "agents[0].password_hash");
}

#[test]
fn a_workstream_file_error_names_that_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ws.toml"),
        "name = \"S\"\nlanguage = \"en-US\"\nchannel = { kind = \"sms\", id = \"sms\" }\nrouting_rules = []\nqueues = []\n",
    )
    .unwrap();
    let start = VALID.find("[[workstreams]]").unwrap();
    let end = VALID.find("[[agents]]").unwrap();
    let text = format!(
        "{}[[workstreams]]\nfile = \"ws.toml\"\n\n{}",
        &VALID[..start],
        &VALID[end..]
    );
    let e = Config::from_toml_str(&text, &dir.path().join("byoc.toml"), &env).unwrap_err();
    assert_eq!(e.file, dir.path().join("ws.toml"), "{e}");
    assert!(!e.field.is_empty(), "{e}");
}

#[test]
fn durations_parse_with_units() {
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
    assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
    assert_eq!(parse_duration("8h"), Some(Duration::from_secs(8 * 3600)));
    assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86_400)));
    assert_eq!(parse_duration("7"), None);
    assert_eq!(parse_duration("s"), None);
    assert_eq!(parse_duration("3w"), None);
}

#[test]
fn a_syntax_error_names_its_line_and_column() {
    let e = load("[server]\nlisten = \"127.0.0.1:0\n").unwrap_err();
    assert_eq!(e.field, "(syntax)");
    assert!(e.reason.starts_with("line 2, column "), "{}", e.reason);
    let e = load("[server]\nlisten = 5\n").unwrap_err();
    assert_eq!(e.field, "server.listen");
    assert!(e.reason.starts_with("line 2, column 10: "), "{}", e.reason);
}
