//! byoc adapter for directline (under construction).
