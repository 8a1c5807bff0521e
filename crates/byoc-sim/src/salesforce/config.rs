//! What the simulated org is configured with, and what the simulator records.

use std::sync::Arc;
use std::time::Duration;

use crate::tls::LocalCa;

/// The built-in test private key (PKCS#8 PEM) of the simulated connected app. Test only.
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("keys/test-key.pem");
/// Its public key (SPKI PEM).
pub const TEST_PUBLIC_KEY_PEM: &str = include_str!("keys/test-key.pub.pem");
/// The simulated connected app's certificate: self-signed for [`TEST_PRIVATE_KEY_PEM`],
/// valid until 2126. Generated once, from `src/salesforce/keys`, with
/// `openssl req -x509 -new -key test-key.pem -sha256 -days 36500
/// -subj "/CN=byoc-sim test connected app/O=byoc" -set_serial 1 -out test-cert.pem`.
pub const TEST_CERTIFICATE_PEM: &str = include_str!("keys/test-cert.pem");
/// Built-in consumer key.
pub const TEST_CONSUMER_KEY: &str = "3MVG9byoc.test.consumer.key";
/// Built-in username.
pub const TEST_USERNAME: &str = "integration@byoc.example";
/// Built-in org id.
pub const TEST_ORG_ID: &str = "00D5g000004Zx1A";
/// Built-in ConversationChannelDefinition developer name.
pub const TEST_AUTHORIZATION_CONTEXT: &str = "byoc_ChannelDefinition";
/// Built-in channel address identifier.
pub const TEST_CHANNEL_ADDRESS: &str = "b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
/// Built-in platform event API name.
pub const TEST_PLATFORM_EVENT: &str = "byoc__ConversationEvent__e";
/// Built-in event-type field.
pub const TEST_EVENT_TYPE_FIELD: &str = "byoc__EventType__c";
/// Built-in payload field.
pub const TEST_PAYLOAD_FIELD: &str = "byoc__Payload__c";
/// Built-in password of [`TEST_USERNAME`] for the SOAP `login` call (what a client sends:
/// the password with the security token appended).
pub const TEST_PASSWORD: &str = "byoc-sim-password+SecurityToken1";

/// What the simulated org is configured with.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SimConfig {
    /// Consumer key (JWT `iss`).
    pub consumer_key: String,
    /// Username (JWT `sub`).
    pub username: String,
    /// The connected app's X.509 certificate (PEM): the token endpoint checks assertions
    /// against its RSA key. Default: [`TEST_CERTIFICATE_PEM`]. When `None`,
    /// `public_key_pem` is used instead.
    pub certificate_pem: Option<String>,
    /// The connected app's bare RSA public key (SPKI or PKCS#1 PEM), used only when
    /// `certificate_pem` is `None`. Default: [`TEST_PUBLIC_KEY_PEM`].
    pub public_key_pem: String,
    /// Accepted JWT `aud`; `None` accepts this simulator's own URL only.
    pub audience: Option<String>,
    /// Org id.
    pub org_id: String,
    /// CCD developer name.
    pub authorization_context: String,
    /// Channel address identifier.
    pub channel_address: String,
    /// Platform event API name.
    pub platform_event: String,
    /// Event-type field.
    pub event_type_field: String,
    /// Payload field.
    pub payload_field: String,
    /// Keep-alive interval of Subscribe streams (Salesforce: 270 s).
    pub keepalive: Duration,
    /// The password (with its security token appended) the SOAP `login` call accepts for
    /// `username`. Default [`TEST_PASSWORD`].
    pub password: String,
    /// `ConversationVendorInfo.VendorType` of the channel definition:
    /// `BringYourOwnContactCenter` (the default, CCaaS) or `BringYourOwnChannelPartner`.
    pub vendor_type: String,
    /// `ConversationChannelDefinition.RoutingOwner`: `Partner` (the default) or `Salesforce`.
    pub routing_owner: String,
    /// `ConversationChannelDefinition.ConsentOwner`: `Salesforce` (the default; Bring Your
    /// Own Channel requires it) or `Partner`.
    pub consent_owner: String,
    /// Serve HTTPS and gRPC over TLS with this CA's server certificate; `None` (the
    /// default) serves plaintext HTTP and HTTP/2.
    pub tls: Option<Arc<LocalCa>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            consumer_key: TEST_CONSUMER_KEY.into(),
            username: TEST_USERNAME.into(),
            certificate_pem: Some(TEST_CERTIFICATE_PEM.into()),
            public_key_pem: TEST_PUBLIC_KEY_PEM.into(),
            audience: None,
            org_id: TEST_ORG_ID.into(),
            authorization_context: TEST_AUTHORIZATION_CONTEXT.into(),
            channel_address: TEST_CHANNEL_ADDRESS.into(),
            platform_event: TEST_PLATFORM_EVENT.into(),
            event_type_field: TEST_EVENT_TYPE_FIELD.into(),
            payload_field: TEST_PAYLOAD_FIELD.into(),
            keepalive: Duration::from_secs(270),
            password: TEST_PASSWORD.into(),
            vendor_type: "BringYourOwnContactCenter".into(),
            routing_owner: "Partner".into(),
            consent_owner: "Salesforce".into(),
            tls: None,
        }
    }
}

impl SimConfig {
    /// Checks assertions against this certificate (PEM).
    #[must_use]
    pub fn with_certificate(mut self, pem: impl Into<String>) -> Self {
        self.certificate_pem = Some(pem.into());
        self
    }

    /// Checks assertions against this bare public key (PEM) instead of a certificate.
    #[must_use]
    pub fn with_public_key(mut self, pem: impl Into<String>) -> Self {
        self.certificate_pem = None;
        self.public_key_pem = pem.into();
        self
    }

    /// Serves HTTPS and gRPC over TLS with a server certificate of `ca`.
    #[must_use]
    pub fn with_tls(mut self, ca: Arc<LocalCa>) -> Self {
        self.tls = Some(ca);
        self
    }

    /// Accepts JWT assertions whose `aud` is `audience` (a client configured with
    /// `https://login.salesforce.com` or `https://test.salesforce.com` sends that).
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets the keep-alive interval of Subscribe streams.
    #[must_use]
    pub fn with_keepalive(mut self, interval: Duration) -> Self {
        self.keepalive = interval;
        self
    }
}

/// One REST call the simulator accepted.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path (`/api/v1/interactions`).
    pub path: String,
    /// The JSON body (the `json` part for `/interactions`).
    pub json: serde_json::Value,
    /// The uploaded file: name, MIME type, size.
    pub attachment: Option<(String, String, usize)>,
    /// The `RequestId` header.
    pub request_id: String,
}

/// A conversation the simulator knows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimConversation {
    /// `conversationIdentifier`.
    pub conversation_identifier: String,
    /// The MessagingSession id (15 characters).
    pub work_item_id: String,
}
