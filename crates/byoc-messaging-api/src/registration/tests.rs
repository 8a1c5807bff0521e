use super::*;
use crate::config::EntraApp;

const T: &str = "7d1f3a5c-9e2b-4c6d-8f0a-1b3c5d7e9f20";
const A: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

#[test]
fn channel_records_are_validated_and_written_with_dataverse_names() {
    let c = CustomChannel::new("Contoso SMS", A, T, "https://bot.contoso.example/hooks/").unwrap();
    let r = serde_json::to_value(c.to_record()).unwrap();
    assert_eq!(r["msdyn_occustomchannelid"], 192_350_005);
    assert_eq!(r["msdyn_appid"], A);
    assert_eq!(r["msdyn_webhookurl"], "https://bot.contoso.example/hooks");
    assert!(r.get("msdyn_occustommessagingchannelid").is_none());
    assert_eq!(
        c.activities_url("c1"),
        "https://bot.contoso.example/hooks/v3/conversations/c1/activities"
    );
    let cases = [
        ("x", A, T, "http://bot.contoso.example", "msdyn_webhookurl"),
        ("x", A, T, "http://127.0.0.1:8080", "msdyn_webhookurl"),
        ("x", A, T, "https://u:p@bot.example", "msdyn_webhookurl"),
        ("x", "nope", T, "https://bot.example", "msdyn_appid"),
        ("x", A, "nope", "https://bot.example", "msdyn_tenantid"),
        (" ", A, T, "https://bot.example", "msdyn_name"),
    ];
    for (name, app, tenant, url, field) in cases {
        let e = CustomChannel::new(name, app, tenant, url).unwrap_err();
        assert!(e.to_string().contains(field), "{url}: {e}");
    }
    CustomChannel::new_for_loopback("x", A, T, "http://127.0.0.1:8080").unwrap();
    CustomChannel::new_for_loopback("x", A, T, "http://localhost:1").unwrap();
    assert!(CustomChannel::new_for_loopback("x", A, T, "http://10.0.0.1").is_err());
}

#[test]
fn create_requests_and_their_answers() {
    let cfg = DataverseConfig::new(
        EntraApp::new(T, A, byoc_core::Secret::new("pw")).unwrap(),
        Url::parse("https://contoso.crm4.dynamics.com").unwrap(),
    )
    .unwrap();
    assert_eq!(cfg.scope(), "https://contoso.crm4.dynamics.com/.default");
    let c = CustomChannel::new("n", A, T, "https://bot.example").unwrap();
    let req = prepare_create_channel(&cfg, &byoc_core::Secret::new("t"), &c).unwrap();
    assert_eq!(
        req.uri().to_string(),
        "https://contoso.crm4.dynamics.com/api/data/v9.2/msdyn_occustommessagingchannels"
    );
    assert_eq!(req.headers()["OData-Version"], "4.0");
    let id = "5c3e1a9f-7b5d-4f3e-8c1a-9f7b5d3e1c0a";
    let resp = http::Response::builder()
        .status(204)
        .header(
            "OData-EntityId",
            format!("https://contoso.crm4.dynamics.com/api/data/v9.2/msdyn_occustommessagingchannels({id})"),
        )
        .body(Bytes::new())
        .unwrap();
    assert_eq!(parse_created_channel(&resp).unwrap().as_str(), id);
    let resp = http::Response::builder()
        .status(201)
        .body(Bytes::from(format!(
            r#"{{"msdyn_occustommessagingchannelid":"{id}"}}"#
        )))
        .unwrap();
    assert_eq!(parse_created_channel(&resp).unwrap().as_str(), id);
    let resp = http::Response::builder()
        .status(201)
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    assert!(matches!(
        parse_created_channel(&resp),
        Err(ClientError::Decode { .. })
    ));
    let resp = http::Response::builder()
        .status(403)
        .body(Bytes::new())
        .unwrap();
    assert!(matches!(
        parse_created_channel(&resp),
        Err(ClientError::Status { status: 403, .. })
    ));
}
