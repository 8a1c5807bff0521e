//! Integration tests: the adapter, the Messaging API client and the Dataverse client against
//! byoc-sim's messaging-api simulator, over real HTTP on loopback.

mod conversation;
mod registration;
mod support;
mod webhook;
