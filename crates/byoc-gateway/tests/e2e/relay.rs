//! End-to-end tests of the relayed contact centers: Dynamics 365 Omnichannel (Messaging API
//! and Bot Framework) and Salesforce (BYOC for Messaging and CCaaS), over loopback against
//! their simulators.

mod omnichannel;
mod salesforce;
mod support;
