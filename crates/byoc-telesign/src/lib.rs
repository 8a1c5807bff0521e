//! byoc adapter for telesign (under construction).
