//! Platform entries and relayed workstreams in `byoc.toml`: valid forms load, and every
//! mistake names the file, the field and the reason.

use std::path::Path;

use crate::config::{ChannelKind, Config, ConfigError, ContactCenterKind, ReplayFrom};

fn base(workstreams: &str) -> String {
    format!(
        r#"
[store]
sqlite = "byoc.db"

[channels.sms]
kind = "telesign"
customer_id = "FFFFFFFF-EEEE-DDDD-1234-AB1234567890"
api_key = "{key}"

[channels.d365]
kind = "messaging-api"
tenant_id = "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20"
client_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
client_secret = {{ env = "D365_SECRET" }}
org_id = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
channel_id = "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a"
geo = "eu"
zone = "crm4"
dataverse_url = "https://contoso.crm4.dynamics.com"
webhook_url = "https://byoc.example/webhooks/d365"

[channels.sf]
kind = "salesforce"
consumer_key = "3MVG9.key"
username = "integration@example.com"
private_key = {{ env = "SF_KEY" }}
org_id = "00D5g000004Zx1A"
scrt_url = "https://example.my.salesforce-scrt.com"
channel_address = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
channel_definition = "Partner_ChannelDefinition"
platform_event = "ns__ConvEvent__e"
event_type_field = "ns__EventType__c"
payload_field = "ns__Payload__c"
routing_deadline = "45s"
replay_start = "earliest"

[channels.sf.queues]
Support = "00G5g000000SuPpA"

[bots.ocbot]
secret = "dl-secret"

{workstreams}
"#,
        key = byoc_sim::telesign::TEST_API_KEY,
    )
}

const OMNICHANNEL: &str = r#"
[[workstreams]]
contact_center = "omnichannel"
platform = "d365"
[workstreams.definition]
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }
"#;

const CCAAS: &str = r#"
[[workstreams]]
contact_center = "salesforce-ccaas"
platform = "sf"
[workstreams.definition]
name = "Support"
language = "en-US"
channel = { kind = "sms", id = "sms" }
default_queue = "Support"
routing_rules = []
[[workstreams.definition.queues]]
name = "Support"
members = [{ id = "0055g00000Jk7Qp", kind = "agent", capacity = 2 }]
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "D365_SECRET" => Some("client-secret-value".into()),
        "SF_KEY" => Some(byoc_sim::salesforce::TEST_PRIVATE_KEY_PEM.into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, Path::new("/etc/byoc/byoc.toml"), &env)
}

#[test]
fn an_omnichannel_workstream_loads_without_queues_of_its_own() {
    let c = load(&base(OMNICHANNEL)).unwrap();
    let ws = c.workstream_for("sms").unwrap();
    assert_eq!(
        ws.contact_center,
        ContactCenterKind::Omnichannel {
            channel: "d365".into()
        }
    );
    assert_eq!(
        ws.workstream.queues[0].name, "d365",
        "the platform stands for the queue"
    );
    let d365 = c.channels.iter().find(|c| c.name == "d365").unwrap();
    let ChannelKind::MessagingApi(s) = &d365.kind else {
        panic!("messaging-api entry");
    };
    let api = s.api_config().unwrap();
    assert_eq!(
        api.channel_id().as_str(),
        "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a"
    );
    assert!(s.dataverse_config().is_ok());
    assert!(
        !format!("{c:?}").contains("client-secret-value"),
        "secrets stay out of Debug"
    );
}

#[test]
fn a_ccaas_workstream_loads_with_the_salesforce_settings() {
    let c = load(&base(CCAAS)).unwrap();
    let sf = c.channels.iter().find(|c| c.name == "sf").unwrap();
    let ChannelKind::Salesforce(s) = &sf.kind else {
        panic!("salesforce entry");
    };
    assert_eq!(s.routing_deadline, std::time::Duration::from_secs(45));
    assert_eq!(s.replay_from, ReplayFrom::Earliest);
    assert_eq!(s.queues["Support"], "00G5g000000SuPpA");
    assert!(!format!("{c:?}").contains("BEGIN PRIVATE KEY"));
}

#[test]
fn an_omnichannel_bot_workstream_names_a_bot() {
    let ws = OMNICHANNEL
        .replace("\"omnichannel\"", "\"omnichannel-bot\"")
        .replace("\"d365\"", "\"ocbot\"");
    let c = load(&base(&ws)).unwrap();
    assert_eq!(
        c.workstreams[0].contact_center,
        ContactCenterKind::OmnichannelBot {
            bot: "ocbot".into()
        }
    );
}

#[test]
fn each_platform_mistake_is_named_with_the_field_and_the_reason() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            OMNICHANNEL,
            "platform = \"d365\"\n",
            "",
            "workstreams[0].platform",
            "missing",
        ),
        (
            OMNICHANNEL,
            "platform = \"d365\"",
            "platform = \"sf\"",
            "workstreams[0].platform",
            "is salesforce, not messaging-api",
        ),
        (
            OMNICHANNEL,
            "platform = \"d365\"",
            "platform = \"nowhere\"",
            "workstreams[0].platform",
            "no channel named `nowhere`",
        ),
        (
            OMNICHANNEL,
            "\"omnichannel\"",
            "\"omnichannel-bot\"",
            "workstreams[0].platform",
            "no bot `d365`",
        ),
        (
            OMNICHANNEL,
            "contact_center = \"omnichannel\"",
            "contact_center = \"byoc\"",
            "workstreams[0].platform",
            "only a relayed contact center",
        ),
        (
            OMNICHANNEL,
            "channel = { kind = \"sms\", id = \"sms\" }",
            "channel = { kind = \"sms\", id = \"d365\" }",
            "workstreams[0].channel.id",
            "not a customer channel",
        ),
    ];
    for (ws, from, to, field, reason) in cases {
        let text = base(&ws.replace(from, to));
        let e = load(&text).unwrap_err();
        assert_eq!(&e.field, field, "{to}: {e}");
        assert!(e.reason.contains(reason), "{to}: {e}");
    }
    let entry_cases: &[(&str, &str, &str, &str)] = &[
        (
            "channel_id = \"5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a\"\n",
            "",
            "channels.d365.channel_id",
            "byoc channel register",
        ),
        (
            "client_id = \"3f2504e0-4f89-41d3-9a0c-0305e82c3301\"",
            "client_id = \"not-a-guid\"",
            "channels.d365.client_id",
            "not a GUID",
        ),
        (
            "{ env = \"D365_SECRET\" }",
            "{ env = \"NOPE\" }",
            "channels.d365.client_secret",
            "NOPE is not set",
        ),
        (
            "{ env = \"SF_KEY\" }",
            "\"not a key\"",
            "channels.sf.private_key",
            "RSA private key",
        ),
        (
            "routing_deadline = \"45s\"",
            "routing_deadline = \"90s\"",
            "channels.sf.routing_deadline",
            "at most 60s",
        ),
        (
            "replay_start = \"earliest\"",
            "replay_start = \"yesterday\"",
            "channels.sf.replay_start",
            "neither",
        ),
        (
            "scrt_url = \"https://example.my.salesforce-scrt.com\"",
            "scrt_url = \"ftp://x\"",
            "channels.sf.scrt_url",
            "http:// or https://",
        ),
        (
            "Support = \"00G5g000000SuPpA\"",
            "Nowhere = \"00G5g000000SuPpA\"",
            "channels.sf.queues.Nowhere",
            "no workstream has a queue",
        ),
    ];
    for (from, to, field, reason) in entry_cases {
        let ws = if field.contains(".sf.") {
            CCAAS
        } else {
            OMNICHANNEL
        };
        let text = base(ws).replace(from, to);
        assert_ne!(
            text,
            base(ws),
            "the replacement must change the config: {from}"
        );
        let e = load(&text).unwrap_err();
        assert_eq!(&e.field, field, "{to}: {e}");
        assert!(e.reason.contains(reason), "{to}: {e}");
        assert_eq!(e.file, Path::new("/etc/byoc/byoc.toml"));
    }
}
