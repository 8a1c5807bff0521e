//! byoc adapter for salesforce (under construction).
