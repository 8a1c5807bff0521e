//! The REST query endpoint (`GET /services/data/v{version}/query?q=...`) for the SOQL a BYOC
//! connector runs at start and in its health check, answered from the simulator's
//! configured channel: `ConversationChannelDefinition` by `DeveloperName` (with
//! `ConversationVendorInfo.VendorType`), `MessagingChannel` by `ChannelAddressIdentifier`
//! and `MessageType`, `COUNT(Id)` of `ContactCenterChannel` by `ChannelId`, the
//! `sfdc_scrt2` `PermissionSet` and its `ObjectPermissions` on the platform event, plus the
//! platform event's `describe`.
//!
//! This is a parser for those query shapes (`SELECT fields FROM object [WHERE a = 'x' AND
//! ...] [LIMIT n]`), not a SOQL engine: anything else gets Salesforce's error shape,
//! `MALFORMED_QUERY`, `INVALID_TYPE` or `INVALID_FIELD`, with status 400.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Shared, SimConfig};

type S = State<Arc<Shared>>;

/// Id of the simulated channel definition record.
const CCD_ID: &str = "0dQ5g000000byoc";
/// Id of its vendor info record.
const VENDOR_INFO_ID: &str = "0m85g000000byoc";
/// Id of the simulated messaging channel record.
pub(crate) const MESSAGING_CHANNEL_ID: &str = "0Mj5g000000byoc";
/// Id of the contact center channel linking it to the contact center.
const CONTACT_CENTER_CHANNEL_ID: &str = "0lq5g000000byoc";
/// Id of the `sfdc_scrt2` permission set.
const SCRT2_PERMISSION_SET_ID: &str = "0PS5g000000scrt";

/// One item of the select list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A field or a relationship path (`ConversationVendorInfo.VendorType`).
    Field(String),
    /// `COUNT(Id)` or `COUNT()`, with its alias.
    Count { alias: Option<String> },
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Soql {
    pub(crate) items: Vec<Item>,
    pub(crate) object: String,
    /// `field = 'value'` conditions joined by `AND`.
    pub(crate) conditions: Vec<(String, String)>,
    pub(crate) limit: Option<usize>,
}

/// Why a query is refused, in Salesforce's error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SoqlError {
    /// `MALFORMED_QUERY`.
    Malformed(String),
    /// `INVALID_TYPE`: no such object.
    InvalidType(String),
    /// `INVALID_FIELD`: no such field on the object.
    InvalidField { field: String, object: String },
}

impl SoqlError {
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "MALFORMED_QUERY",
            Self::InvalidType(_) => "INVALID_TYPE",
            Self::InvalidField { .. } => "INVALID_FIELD",
        }
    }

    fn message(&self, query: &str) -> String {
        let what = match self {
            Self::Malformed(why) => format!("unexpected token: {why}"),
            Self::InvalidType(object) => format!(
                "sObject type '{object}' is not supported. If you are attempting to use a custom \
                 object, be sure to append the '__c' after the entity name. Please reference your \
                 WSDL or the describe call for the appropriate names."
            ),
            Self::InvalidField { field, object } => format!(
                "No such column '{field}' on entity '{object}'. If you are attempting to use a \
                 custom field, be sure to append the '__c' after the custom field name. Please \
                 reference your WSDL or the describe call for the appropriate names."
            ),
        };
        format!("\n{}\nERROR at Row:1:Column:1\n{what}", query.trim())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Comma,
    Open,
    Close,
    Equals,
}

fn tokens(q: &str) -> Result<Vec<Token>, SoqlError> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            ',' | '(' | ')' | '=' => {
                chars.next();
                out.push(match c {
                    ',' => Token::Comma,
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Equals,
                });
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => match chars.next() {
                            Some(e) => s.push(e),
                            None => return Err(SoqlError::Malformed("unterminated string".into())),
                        },
                        Some('\'') => break,
                        Some(ch) => s.push(ch),
                        None => return Err(SoqlError::Malformed("unterminated string".into())),
                    }
                }
                out.push(Token::Str(s));
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '.' => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' {
                        w.push(ch);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(w));
            }
            other => return Err(SoqlError::Malformed(other.to_string())),
        }
    }
    Ok(out)
}

fn is_kw(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// Parses `SELECT items FROM object [WHERE f = 'v' [AND ...]] [LIMIT n]`.
pub(crate) fn parse(q: &str) -> Result<Soql, SoqlError> {
    let t = tokens(q)?;
    let mut i = 0;
    let malformed = |what: &str| SoqlError::Malformed(what.to_owned());
    if !is_kw(t.first(), "SELECT") {
        return Err(malformed("expected SELECT"));
    }
    i += 1;
    let mut items = Vec::new();
    loop {
        match t.get(i) {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("COUNT") => {
                i += 1;
                if t.get(i) != Some(&Token::Open) {
                    return Err(malformed("expected ( after COUNT"));
                }
                i += 1;
                if let Some(Token::Word(_)) = t.get(i) {
                    i += 1;
                }
                if t.get(i) != Some(&Token::Close) {
                    return Err(malformed("expected )"));
                }
                i += 1;
                let alias = match t.get(i) {
                    Some(Token::Word(w)) if !w.eq_ignore_ascii_case("FROM") => {
                        i += 1;
                        Some(w.clone())
                    }
                    _ => None,
                };
                items.push(Item::Count { alias });
            }
            Some(Token::Word(w)) if !w.eq_ignore_ascii_case("FROM") => {
                items.push(Item::Field(w.clone()));
                i += 1;
            }
            _ => return Err(malformed("expected a field")),
        }
        if t.get(i) == Some(&Token::Comma) {
            i += 1;
        } else {
            break;
        }
    }
    if !is_kw(t.get(i), "FROM") {
        return Err(malformed("expected FROM"));
    }
    i += 1;
    let Some(Token::Word(object)) = t.get(i) else {
        return Err(malformed("expected an object"));
    };
    i += 1;
    let mut conditions = Vec::new();
    if is_kw(t.get(i), "WHERE") {
        i += 1;
        loop {
            match (t.get(i), t.get(i + 1), t.get(i + 2)) {
                (Some(Token::Word(f)), Some(Token::Equals), Some(Token::Str(v))) => {
                    conditions.push((f.clone(), v.clone()));
                    i += 3;
                }
                _ => return Err(malformed("expected field = 'value'")),
            }
            if is_kw(t.get(i), "AND") {
                i += 1;
            } else {
                break;
            }
        }
    }
    let mut limit = None;
    if is_kw(t.get(i), "LIMIT") {
        match t.get(i + 1) {
            Some(Token::Word(n)) => {
                limit = Some(n.parse().map_err(|_| malformed("LIMIT needs a number"))?);
                i += 2;
            }
            _ => return Err(malformed("LIMIT needs a number")),
        }
    }
    if i != t.len() {
        return Err(malformed("unexpected text after the query"));
    }
    Ok(Soql {
        items,
        object: object.clone(),
        conditions,
        limit,
    })
}

/// The simulated org's records of `object` (canonical object name, records with flat
/// field paths), or `None` for an object the simulator does not have.
fn table(object: &str, cfg: &SimConfig) -> Option<(&'static str, Vec<Map<String, Value>>)> {
    let record = |pairs: Vec<(&str, Value)>| -> Map<String, Value> {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    let lower = object.to_ascii_lowercase();
    Some(match lower.as_str() {
        "conversationchanneldefinition" => (
            "ConversationChannelDefinition",
            vec![record(vec![
                ("Id", json!(CCD_ID)),
                ("DeveloperName", json!(cfg.authorization_context)),
                ("MasterLabel", json!(cfg.authorization_context)),
                ("RoutingOwner", json!(cfg.routing_owner)),
                ("ConsentOwner", json!(cfg.consent_owner)),
                ("ConversationVendorInfoId", json!(VENDOR_INFO_ID)),
                ("CustomPlatformEvent", json!(cfg.platform_event)),
                ("CustomEventTypeField", json!(cfg.event_type_field)),
                ("CustomEventPayloadField", json!(cfg.payload_field)),
                ("NamespacePrefix", Value::Null),
                ("ConversationVendorInfo.Id", json!(VENDOR_INFO_ID)),
                ("ConversationVendorInfo.VendorType", json!(cfg.vendor_type)),
                (
                    "ConversationVendorInfo.DeveloperName",
                    json!("byoc_VendorInfo"),
                ),
            ])],
        ),
        "messagingchannel" => (
            "MessagingChannel",
            vec![record(vec![
                ("Id", json!(MESSAGING_CHANNEL_ID)),
                ("ChannelAddressIdentifier", json!(cfg.channel_address)),
                ("MessageType", json!("Custom")),
                ("DeveloperName", json!("byoc_MessagingChannel")),
                ("MasterLabel", json!("byoc messaging channel")),
                ("IsActive", json!(true)),
            ])],
        ),
        "contactcenterchannel" => (
            "ContactCenterChannel",
            vec![record(vec![
                ("Id", json!(CONTACT_CENTER_CHANNEL_ID)),
                ("ChannelId", json!(MESSAGING_CHANNEL_ID)),
            ])],
        ),
        "permissionset" => (
            "PermissionSet",
            vec![record(vec![
                ("Id", json!(SCRT2_PERMISSION_SET_ID)),
                ("Name", json!("sfdc_scrt2")),
            ])],
        ),
        "objectpermissions" => (
            "ObjectPermissions",
            vec![record(vec![
                ("Id", json!("1105g000000byoc")),
                ("ParentId", json!(SCRT2_PERMISSION_SET_ID)),
                ("SObjectType", json!(cfg.platform_event)),
                ("PermissionsRead", json!(true)),
                ("PermissionsCreate", json!(true)),
            ])],
        ),
        _ => return None,
    })
}

/// The field of `record` named `path`, case-insensitively, with its canonical name.
fn field<'a>(record: &'a Map<String, Value>, path: &str) -> Option<(&'a str, &'a Value)> {
    record
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(path))
        .map(|(k, v)| (k.as_str(), v))
}

/// Runs a parsed query against the simulated org: the `query` answer's JSON.
pub(crate) fn run(q: &Soql, cfg: &SimConfig, version: &str) -> Result<Value, SoqlError> {
    let (object, records) =
        table(&q.object, cfg).ok_or_else(|| SoqlError::InvalidType(q.object.clone()))?;
    let invalid = |f: &str| SoqlError::InvalidField {
        field: f.to_owned(),
        object: object.to_owned(),
    };
    let template = records.first().cloned().unwrap_or_default();
    for (f, _) in &q.conditions {
        field(&template, f).ok_or_else(|| invalid(f))?;
    }
    for item in &q.items {
        if let Item::Field(f) = item {
            field(&template, f).ok_or_else(|| invalid(f))?;
        }
    }
    let matching: Vec<&Map<String, Value>> = records
        .iter()
        .filter(|r| {
            q.conditions.iter().all(|(f, v)| {
                field(r, f).is_some_and(|(_, x)| match x {
                    Value::String(s) => s == v,
                    Value::Bool(b) => v.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
                    _ => false,
                })
            })
        })
        .take(q.limit.unwrap_or(usize::MAX))
        .collect();
    let counts = q.items.iter().any(|i| matches!(i, Item::Count { .. }));
    if counts {
        let mut row = Map::new();
        row.insert("attributes".into(), json!({ "type": "AggregateResult" }));
        for (n, item) in q.items.iter().enumerate() {
            if let Item::Count { alias } = item {
                let name = alias.clone().unwrap_or_else(|| format!("expr{n}"));
                row.insert(name, json!(matching.len()));
            }
        }
        return Ok(json!({ "totalSize": 1, "done": true, "records": [row] }));
    }
    let rows: Vec<Value> = matching
        .iter()
        .map(|r| {
            let id = field(r, "Id").and_then(|(_, v)| v.as_str()).unwrap_or_default();
            let mut row = Map::new();
            row.insert(
                "attributes".into(),
                json!({ "type": object, "url": format!("/services/data/{version}/sobjects/{object}/{id}") }),
            );
            for item in &q.items {
                let Item::Field(f) = item else { continue };
                let Some((name, value)) = field(r, f) else {
                    continue;
                };
                match name.split_once('.') {
                    None => {
                        row.insert(name.to_owned(), value.clone());
                    }
                    Some((relation, sub)) => {
                        let related_id = field(r, &format!("{relation}.Id"))
                            .and_then(|(_, v)| v.as_str())
                            .unwrap_or_default()
                            .to_owned();
                        let entry = row.entry(relation.to_owned()).or_insert_with(|| {
                            json!({ "attributes": { "type": relation, "url": format!("/services/data/{version}/sobjects/{relation}/{related_id}") } })
                        });
                        if let Some(o) = entry.as_object_mut() {
                            o.insert(sub.to_owned(), value.clone());
                        }
                    }
                }
            }
            Value::Object(row)
        })
        .collect();
    Ok(json!({ "totalSize": rows.len(), "done": true, "records": rows }))
}

fn rest_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!([{ "message": message, "errorCode": code }])),
    )
        .into_response()
}

fn invalid_session() -> Response {
    rest_error(
        StatusCode::UNAUTHORIZED,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    )
}

/// A `v{major}.{minor}` API version segment.
fn api_version(segment: &str) -> Option<&str> {
    let v = segment.strip_prefix('v')?;
    v.parse::<f32>().ok().map(|_| segment)
}

/// `GET /services/data/{version}/query?q=...`.
pub(crate) async fn query(
    State(sh): S,
    Path(version): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    if !super::identity::session(&sh, &headers) {
        return invalid_session();
    }
    let Some(version) = api_version(&version) else {
        return rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        );
    };
    let Some((_, q)) = params.iter().find(|(k, _)| k == "q") else {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "A query string has to be specified",
        );
    };
    match parse(q).and_then(|parsed| run(&parsed, &sh.cfg, version)) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => rest_error(StatusCode::BAD_REQUEST, e.code(), &e.message(q)),
    }
}

/// `GET /services/data/{version}/sobjects/{object}/describe`, for the configured platform
/// event: its name and fields (a connector checks that the type and payload fields exist).
pub(crate) async fn describe(
    State(sh): S,
    Path((version, object)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !super::identity::session(&sh, &headers) {
        return invalid_session();
    }
    if api_version(&version).is_none() || !object.eq_ignore_ascii_case(&sh.cfg.platform_event) {
        return rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        );
    }
    let field = |name: &str, kind: &str, custom: bool| json!({ "name": name, "type": kind, "custom": custom, "nillable": custom });
    axum::Json(json!({
        "name": sh.cfg.platform_event,
        "label": sh.cfg.platform_event,
        "custom": true,
        "createable": true,
        "queryable": false,
        "fields": [
            field("ReplayId", "string", false),
            field("CreatedDate", "datetime", false),
            field("CreatedById", "reference", false),
            field("EventUuid", "string", false),
            field(&sh.cfg.event_type_field, "string", true),
            field(&sh.cfg.payload_field, "textarea", true),
        ],
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SimConfig {
        SimConfig::default()
    }

    #[test]
    fn the_channel_definition_lookup_parses_and_answers_from_the_configuration() {
        let q = "SELECT Id, DeveloperName, RoutingOwner, ConsentOwner, ConversationVendorInfoId, \
                 CustomPlatformEvent, CustomEventTypeField, CustomEventPayloadField, \
                 NamespacePrefix, ConversationVendorInfo.VendorType \
                 FROM ConversationChannelDefinition WHERE DeveloperName = 'byoc_ChannelDefinition'";
        let parsed = parse(q).unwrap();
        assert_eq!(parsed.items.len(), 10);
        assert_eq!(parsed.object, "ConversationChannelDefinition");
        let v = run(&parsed, &cfg(), "v62.0").unwrap();
        assert_eq!(v["totalSize"], 1);
        let r = &v["records"][0];
        assert_eq!(r["attributes"]["type"], "ConversationChannelDefinition");
        assert_eq!(r["DeveloperName"], "byoc_ChannelDefinition");
        assert_eq!(r["CustomPlatformEvent"], "byoc__ConversationEvent__e");
        assert_eq!(r["CustomEventTypeField"], "byoc__EventType__c");
        assert_eq!(r["CustomEventPayloadField"], "byoc__Payload__c");
        assert_eq!(r["RoutingOwner"], "Partner");
        assert_eq!(r["ConsentOwner"], "Salesforce");
        assert!(r["NamespacePrefix"].is_null());
        assert_eq!(
            r["ConversationVendorInfo"]["VendorType"],
            "BringYourOwnContactCenter"
        );
        assert_eq!(
            r["ConversationVendorInfo"]["attributes"]["type"],
            "ConversationVendorInfo"
        );
        let other =
            parse("SELECT Id FROM ConversationChannelDefinition WHERE DeveloperName = 'other'")
                .unwrap();
        assert_eq!(run(&other, &cfg(), "v62.0").unwrap()["totalSize"], 0);
    }

    #[test]
    fn the_health_check_queries_answer_a_linked_channel() {
        let mc = parse(&format!(
            "SELECT Id FROM MessagingChannel WHERE ChannelAddressIdentifier = '{}' AND MessageType = 'Custom'",
            cfg().channel_address
        ))
        .unwrap();
        let v = run(&mc, &cfg(), "v62.0").unwrap();
        assert_eq!(v["records"][0]["Id"], MESSAGING_CHANNEL_ID);
        let count = parse(&format!(
            "SELECT COUNT(Id) totalCount FROM ContactCenterChannel WHERE ChannelId = '{MESSAGING_CHANNEL_ID}'"
        ))
        .unwrap();
        let v = run(&count, &cfg(), "v62.0").unwrap();
        assert_eq!(v["records"][0]["totalCount"], 1);
        assert_eq!(v["records"][0]["attributes"]["type"], "AggregateResult");
        let none =
            parse("SELECT COUNT(Id) FROM ContactCenterChannel WHERE ChannelId = 'x'").unwrap();
        assert_eq!(
            run(&none, &cfg(), "v62.0").unwrap()["records"][0]["expr0"],
            0
        );
        let wrong_type = parse(&format!(
            "SELECT Id FROM MessagingChannel WHERE ChannelAddressIdentifier = '{}' AND MessageType = 'Text'",
            cfg().channel_address
        ))
        .unwrap();
        assert_eq!(run(&wrong_type, &cfg(), "v62.0").unwrap()["totalSize"], 0);
    }

    #[test]
    fn other_queries_get_salesforces_error_codes() {
        let code = |q: &str| match parse(q).and_then(|p| run(&p, &cfg(), "v62.0")) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        assert_eq!(code("SELECT Id FROM Account"), "INVALID_TYPE");
        assert_eq!(code("SELECT Nope FROM MessagingChannel"), "INVALID_FIELD");
        assert_eq!(
            code("SELECT Id FROM MessagingChannel WHERE Nope = 'x'"),
            "INVALID_FIELD"
        );
        assert_eq!(code("SELEC Id FROM MessagingChannel"), "MALFORMED_QUERY");
        assert_eq!(code("SELECT Id FROM"), "MALFORMED_QUERY");
        assert_eq!(
            code("SELECT Id FROM MessagingChannel WHERE Id = 'x"),
            "MALFORMED_QUERY"
        );
        assert_eq!(
            code("SELECT Id FROM MessagingChannel WHERE Id > 'x'"),
            "MALFORMED_QUERY"
        );
        assert_eq!(
            code("SELECT Id FROM MessagingChannel ORDER BY Id"),
            "MALFORMED_QUERY"
        );
        assert_eq!(code("select id from messagingchannel limit 1"), "ok");
    }
}
