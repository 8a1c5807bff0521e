//! Identities: [`Guid`] and the Entra app ([`EntraApp`]) whose client credentials the
//! clients use and whose tokens the webhook accepts.

use std::fmt;

use byoc_core::Secret;
use url::Url;

use crate::error::ConfigError;

/// A GUID as Entra, Dataverse and Omnichannel use them (`8-4-4-4-12` hex digits), kept in
/// lower case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(String);

impl Guid {
    /// Parses a GUID, with or without surrounding braces; `field` names it in the error.
    ///
    /// # Errors
    /// [`ConfigError::InvalidGuid`] when `text` is not a GUID.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, ConfigError> {
        let t = text.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|x| x.strip_suffix('}'))
            .unwrap_or(t);
        let groups: Vec<&str> = t.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip(lens)
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(Self(t.to_ascii_lowercase()))
        } else {
            Err(ConfigError::InvalidGuid { field })
        }
    }

    /// The GUID with dashes, lower case.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GUID without dashes (as in the Messaging API token scope).
    #[must_use]
    pub fn simple(&self) -> String {
        self.0.replace('-', "")
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({})", self.0)
    }
}

/// An Entra app registration used with the client-credentials grant: the app the channel
/// record names (`msdyn_appid`, `msdyn_tenantid`).
#[derive(Clone)]
pub struct EntraApp {
    tenant_id: Guid,
    client_id: Guid,
    client_secret: Secret,
}

impl EntraApp {
    /// An app; ids are validated as GUIDs.
    ///
    /// # Errors
    /// [`ConfigError`] naming the id that is not a GUID, or an empty secret.
    pub fn new(
        tenant_id: &str,
        client_id: &str,
        client_secret: Secret,
    ) -> Result<Self, ConfigError> {
        if client_secret.is_empty() {
            return Err(ConfigError::Empty {
                field: "client_secret",
            });
        }
        Ok(Self {
            tenant_id: Guid::parse("tenant_id", tenant_id)?,
            client_id: Guid::parse("client_id", client_id)?,
            client_secret,
        })
    }

    /// Directory (tenant) id.
    #[must_use]
    pub fn tenant_id(&self) -> &Guid {
        &self.tenant_id
    }

    /// Application (client) id.
    #[must_use]
    pub fn client_id(&self) -> &Guid {
        &self.client_id
    }

    /// Client secret.
    #[must_use]
    pub fn client_secret(&self) -> &Secret {
        &self.client_secret
    }

    /// The v2 token endpoint of this app's tenant under `authority`.
    pub(crate) fn token_url(&self, authority: &Url) -> Result<Url, ConfigError> {
        byoc_http::entra_token_url(authority, self.tenant_id.as_str())
            .map_err(|_| ConfigError::InvalidUrl { field: "authority" })
    }

    /// The client-credentials grant of this app for `scope` at `token_url`.
    pub(crate) fn grant(&self, token_url: &Url, scope: &str) -> byoc_http::ClientCredentials {
        byoc_http::ClientCredentials::new(
            token_url.clone(),
            self.client_id.as_str(),
            self.client_secret.clone(),
            scope,
        )
    }
}

impl fmt::Debug for EntraApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraApp")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}
