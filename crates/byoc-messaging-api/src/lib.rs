//! byoc adapter for messaging-api (under construction).
