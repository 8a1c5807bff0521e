//! The complex types an [`Activity`](super::Activity) is made of.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::kinds::{ActionType, MessageReactionType, RoleType, SemanticActionState};
use super::macros::lossless_struct;
use super::raw::{Key, RawJson};

lossless_struct! {
    /// A user, bot or channel account (`ChannelAccount`).
    pub struct ChannelAccount ("a ChannelAccount object") {
        /// Channel-specific id of the account.
        id: String = "id",
        /// Display name.
        name: String = "name",
        /// Microsoft Entra object id.
        aad_object_id: String = "aadObjectId",
        /// `user`, `bot` or `skill`.
        role: RoleType = "role",
    }
}

impl ChannelAccount {
    /// An account with an id.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the role.
    #[must_use]
    pub fn with_role(mut self, role: RoleType) -> Self {
        self.role = Some(role);
        self
    }
}

lossless_struct! {
    /// The conversation an activity belongs to (`ConversationAccount`).
    pub struct ConversationAccount ("a ConversationAccount object") {
        /// Whether more than two participants take part.
        is_group: bool = "isGroup",
        /// Channel-specific conversation type (Teams: `personal`, `groupChat`, `channel`).
        conversation_type: String = "conversationType",
        /// Conversation id.
        id: String = "id",
        /// Display name.
        name: String = "name",
        /// Microsoft Entra object id.
        aad_object_id: String = "aadObjectId",
        /// Role.
        role: RoleType = "role",
        /// Tenant id (Teams).
        tenant_id: String = "tenantId",
    }
}

impl ConversationAccount {
    /// A conversation with an id.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            ..Self::default()
        }
    }
}

lossless_struct! {
    /// A reaction to a message.
    pub struct MessageReaction ("a MessageReaction object") {
        /// `like`, `plusOne`, or a channel's own value.
        kind: MessageReactionType = "type",
    }
}

lossless_struct! {
    /// Actions offered to the user as quick replies.
    pub struct SuggestedActions ("a SuggestedActions object") {
        /// Ids of the recipients who may see the actions.
        to: Vec<String> = "to",
        /// The actions.
        actions: Vec<CardAction> = "actions",
    }
}

lossless_struct! {
    /// A clickable action (button, quick reply).
    pub struct CardAction ("a CardAction object") {
        /// Action type.
        kind: ActionType = "type",
        /// Button text.
        title: String = "title",
        /// Image URL.
        image: String = "image",
        /// Alternative text for the image.
        image_alt_text: String = "imageAltText",
        /// Text sent to the bot (messageBack).
        text: String = "text",
        /// Text shown in the chat feed (messageBack).
        display_text: String = "displayText",
        /// Action payload: a URL, text, or any JSON (kept raw).
        value: RawJson = "value",
        /// Channel-specific data (kept raw).
        channel_data: RawJson = "channelData",
    }
}

impl CardAction {
    /// An `imBack` action sending `value` as text.
    #[must_use]
    pub fn im_back(title: impl Into<String>, value: &str) -> Self {
        Self {
            kind: Some(ActionType::ImBack),
            title: Some(title.into()),
            value: RawJson::from_serialize(value).ok(),
            ..Self::default()
        }
    }

    /// The `value` when it is a JSON string.
    #[must_use]
    pub fn value_str(&self) -> Option<String> {
        self.value.as_ref()?.as_string().map(|c| c.into_owned())
    }
}

lossless_struct! {
    /// A file, media item or card attached to an activity.
    pub struct Attachment ("an Attachment object") {
        /// MIME type or card type (`application/vnd.microsoft.card.hero`).
        content_type: String = "contentType",
        /// Where the content can be fetched.
        content_url: String = "contentUrl",
        /// Inline content (a card body, any JSON), kept raw.
        content: RawJson = "content",
        /// File name.
        name: String = "name",
        /// Thumbnail URL.
        thumbnail_url: String = "thumbnailUrl",
    }
}

impl Attachment {
    /// An attachment behind a URL.
    #[must_use]
    pub fn from_url(content_type: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            content_type: Some(content_type.into()),
            content_url: Some(url.into()),
            ..Self::default()
        }
    }

    /// Whether this is a Bot Framework card (`application/vnd.microsoft.card.*`).
    #[must_use]
    pub fn is_card(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/vnd.microsoft.card."))
    }
}

lossless_struct! {
    /// A reference to a point in a conversation, enough to continue it later.
    pub struct ConversationReference ("a ConversationReference object") {
        /// The activity referred to.
        activity_id: String = "activityId",
        /// The user.
        user: ChannelAccount = "user",
        /// The bot.
        bot: ChannelAccount = "bot",
        /// The conversation.
        conversation: ConversationAccount = "conversation",
        /// The channel.
        channel_id: String = "channelId",
        /// The service URL to reply to.
        service_url: String = "serviceUrl",
        /// The locale.
        locale: String = "locale",
    }
}

lossless_struct! {
    /// Part of `text` to highlight (`textHighlights`).
    pub struct TextHighlight ("a TextHighlight object") {
        /// The text to highlight.
        text: String = "text",
        /// Which occurrence (1-based).
        occurrence: i64 = "occurrence",
    }
}

lossless_struct! {
    /// A programmatic action (`semanticAction`).
    pub struct SemanticAction ("a SemanticAction object") {
        /// `start`, `continue` or `done`.
        state: SemanticActionState = "state",
        /// Action id.
        id: String = "id",
        /// Entities by name.
        entities: BTreeMap<String, Entity> = "entities",
    }
}

lossless_struct! {
    /// The answer to a send: the id of the created resource.
    pub struct ResourceResponse ("a ResourceResponse object") {
        /// Id of the resource (the activity id).
        id: String = "id",
    }
}

impl ResourceResponse {
    /// A response with an id.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            ..Self::default()
        }
    }
}

lossless_struct! {
    /// The HTTP error wrapped in an [`ErrorBody`].
    pub struct InnerHttpError ("an InnerHttpError object") {
        /// HTTP status code.
        status_code: i64 = "statusCode",
        /// Body of the failed response.
        body: RawJson = "body",
    }
}

lossless_struct! {
    /// The `error` of an [`ErrorResponse`].
    pub struct ErrorBody ("an Error object") {
        /// Error code (`BadArgument`, `TokenExpired`, ...).
        code: String = "code",
        /// Human-readable message.
        message: String = "message",
        /// The underlying HTTP error.
        inner_http_error: InnerHttpError = "innerHttpError",
    }
}

lossless_struct! {
    /// The Connector / Direct Line error answer: `{ "error": { "code", "message" } }`.
    pub struct ErrorResponse ("an ErrorResponse object") {
        /// The error.
        error: ErrorBody = "error",
    }
}

/// Metadata about an activity (`entities[]`): a `type` plus free fields, kept raw as a whole
/// and read typed on demand ([`Entity::parse`], [`Entity::as_mention`]).
#[derive(Clone, PartialEq)]
pub struct Entity {
    kind: Option<String>,
    raw: RawJson,
}

impl Entity {
    /// An entity of type `kind` whose other fields come from `body` (an object; its own
    /// `type` field, if any, is overwritten).
    ///
    /// # Errors
    /// When `body` does not serialize to a JSON object.
    pub fn new<T: Serialize + ?Sized>(kind: &str, body: &T) -> Result<Self, serde_json::Error> {
        let mut value = serde_json::to_value(body)?;
        let Some(map) = value.as_object_mut() else {
            return Err(serde_json::Error::custom(
                "an entity body must be a JSON object",
            ));
        };
        map.insert(
            "type".to_owned(),
            serde_json::Value::String(kind.to_owned()),
        );
        Ok(Self {
            kind: Some(kind.to_owned()),
            raw: RawJson::from(&value),
        })
    }

    /// A `mention` entity (Teams style: `<at>name</at>` in the text).
    #[must_use]
    pub fn mention(mentioned: ChannelAccount, text: impl Into<String>) -> Self {
        let m = Mention {
            mentioned: Some(mentioned),
            text: Some(text.into()),
            ..Mention::default()
        };
        // A Mention always serializes to an object.
        Self::new("mention", &m).unwrap_or_else(|_| Self {
            kind: Some("mention".into()),
            raw: RawJson::null(),
        })
    }

    /// An entity from its `type` and its whole raw object (for `activity::fast`).
    pub(super) fn from_parts(kind: Option<String>, raw: RawJson) -> Self {
        Self { kind, raw }
    }

    /// The entity's `type`, if it has one.
    #[must_use]
    pub fn entity_type(&self) -> Option<&str> {
        self.kind.as_deref()
    }

    /// The whole entity as raw JSON (including `type`).
    #[must_use]
    pub fn raw(&self) -> &RawJson {
        &self.raw
    }

    /// Reads the entity as `T`.
    ///
    /// # Errors
    /// When the JSON does not match `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.raw.parse()
    }

    /// The entity as a [`Mention`], when its type is `mention`.
    #[must_use]
    pub fn as_mention(&self) -> Option<Mention> {
        if self.kind.as_deref()?.eq_ignore_ascii_case("mention") {
            self.raw.parse().ok()
        } else {
            None
        }
    }
}

impl fmt::Debug for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entity")
            .field("type", &self.kind)
            .field("raw", &self.raw)
            .finish()
    }
}

impl Serialize for Entity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Entity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(d)?;
        if !raw.is_object() {
            return Err(D::Error::custom("an entity must be a JSON object"));
        }
        let kind = serde_json::from_str::<EntityType>(raw.get())
            .map_err(D::Error::custom)?
            .0;
        Ok(Self { kind, raw })
    }
}

/// Scans an entity object for its `type` without building anything else.
struct EntityType(Option<String>);

impl<'de> Deserialize<'de> for EntityType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EntityType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an entity object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntityType, A::Error> {
                let mut kind = None;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.as_str() == "type" && kind.is_none() {
                        kind = map.next_value::<Option<String>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(EntityType(kind))
            }
        }
        d.deserialize_map(V)
    }
}

lossless_struct! {
    /// A `mention` entity.
    pub struct Mention ("a Mention entity") {
        /// Always `mention`.
        kind: String = "type",
        /// Who is mentioned.
        mentioned: ChannelAccount = "mentioned",
        /// The text of the mention within the activity text (`<at>Name</at>`).
        text: String = "text",
    }
}
