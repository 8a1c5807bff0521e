//! The create-conversation request body and its limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MAX_CONTEXT_VARIABLES, MAX_START_MESSAGE_BYTES, check_chars};
use crate::error::{Limit, RenderError};

/// Who the customer is (`customercontext`); every field optional, each ≤ 200 characters.
/// An active conversation with the same `customerid` is returned instead of a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerContext {
    /// Your id of the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customerid: Option<String>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Preferred name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferredname: Option<String>,
    /// Email (used to find the contact record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number (used to find the contact record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phonenumber: Option<String>,
}

impl CustomerContext {
    /// A customer with your id for them.
    #[must_use]
    pub fn new(customer_id: impl Into<String>) -> Self {
        Self {
            customerid: Some(customer_id.into()),
            ..Self::default()
        }
    }

    /// Sets first and last name.
    #[must_use]
    pub fn with_name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.firstname = Some(first.into());
        self.lastname = Some(last.into());
        self
    }

    /// Sets the preferred name.
    #[must_use]
    pub fn with_preferred_name(mut self, name: impl Into<String>) -> Self {
        self.preferredname = Some(name.into());
        self
    }

    /// Sets the email.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone number.
    #[must_use]
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phonenumber = Some(phone.into());
        self
    }

    fn fields(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("customerid", &self.customerid),
            ("firstname", &self.firstname),
            ("lastname", &self.lastname),
            ("preferredname", &self.preferredname),
            ("email", &self.email),
            ("phonenumber", &self.phonenumber),
        ]
    }
}

/// One conversation context variable; `isDisplayable` shows it to the representative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContextVariable {
    /// Whether the representative sees it.
    #[serde(rename = "isDisplayable", default)]
    pub is_displayable: bool,
    /// The value (string, number or boolean).
    pub value: serde_json::Value,
}

impl ContextVariable {
    /// A variable the representative sees.
    #[must_use]
    pub fn displayable(value: impl Into<serde_json::Value>) -> Self {
        Self {
            is_displayable: true,
            value: value.into(),
        }
    }

    /// A variable for routing and bots only, not shown to the representative.
    #[must_use]
    pub fn hidden(value: impl Into<serde_json::Value>) -> Self {
        Self {
            is_displayable: false,
            value: value.into(),
        }
    }
}

/// The first message, shown to the representative only (≤ 27 KB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartMessage {
    /// Text.
    pub message: String,
    /// Sender name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displayname: Option<String>,
}

/// The body of the create-conversation request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateConversation {
    /// Who the customer is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customercontext: Option<CustomerContext>,
    /// Context variables (≤ 100).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub conversationcontext: BTreeMap<String, ContextVariable>,
    /// Idempotency key: the same id returns the same conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversationrequestid: Option<String>,
    /// The first message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startmessage: Option<StartMessage>,
    /// `true`: do not engage the AI agent first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipdeflectionbot: Option<bool>,
}

impl CreateConversation {
    /// An empty request.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the customer.
    #[must_use]
    pub fn with_customer(mut self, customer: CustomerContext) -> Self {
        self.customercontext = Some(customer);
        self
    }

    /// Adds a context variable the representative sees.
    #[must_use]
    pub fn with_displayable_context(
        self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.with_context_variable(name, ContextVariable::displayable(value))
    }

    /// Adds a context variable the representative does not see (routing, bots).
    #[must_use]
    pub fn with_hidden_context(
        self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.with_context_variable(name, ContextVariable::hidden(value))
    }

    /// Adds a context variable.
    #[must_use]
    pub fn with_context_variable(
        mut self,
        name: impl Into<String>,
        variable: ContextVariable,
    ) -> Self {
        self.conversationcontext.insert(name.into(), variable);
        self
    }

    /// Sets the idempotency key (`conversationrequestid`).
    #[must_use]
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.conversationrequestid = Some(id.into());
        self
    }

    /// Sets the start message.
    #[must_use]
    pub fn with_start_message(
        mut self,
        message: impl Into<String>,
        display_name: Option<String>,
    ) -> Self {
        self.startmessage = Some(StartMessage {
            message: message.into(),
            displayname: display_name,
        });
        self
    }

    /// Sets `skipdeflectionbot: true`: the conversation goes to a representative without
    /// the AI agent engaging first (by default the field is not sent and the workstream
    /// decides).
    #[must_use]
    pub fn skipping_deflection_bot(mut self) -> Self {
        self.skipdeflectionbot = Some(true);
        self
    }

    /// Checks the documented limits.
    ///
    /// # Errors
    /// The first [`RenderError`] found.
    pub fn validate(&self) -> Result<(), RenderError> {
        if let Some(c) = &self.customercontext {
            for (name, value) in c.fields() {
                check_chars(
                    value.as_deref(),
                    Limit::CustomerContextField,
                    &format!("customercontext.{name}"),
                )?;
            }
        }
        let n = self.conversationcontext.len();
        if n > MAX_CONTEXT_VARIABLES {
            return Err(RenderError::new(
                Limit::ContextVariables,
                "conversationcontext",
                n,
            ));
        }
        for name in self.conversationcontext.keys() {
            check_chars(Some(name), Limit::Name, "conversationcontext")?;
        }
        check_chars(
            self.conversationrequestid.as_deref(),
            Limit::Name,
            "conversationrequestid",
        )?;
        if let Some(m) = &self.startmessage {
            let bytes = serde_json::to_vec(m).map_or(usize::MAX, |v| v.len());
            if bytes > MAX_START_MESSAGE_BYTES {
                return Err(RenderError::new(Limit::StartMessage, "startmessage", bytes));
            }
            check_chars(
                m.displayname.as_deref(),
                Limit::Name,
                "startmessage.displayname",
            )?;
        }
        Ok(())
    }
}
