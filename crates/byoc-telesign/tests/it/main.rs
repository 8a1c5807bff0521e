//! Integration tests: the TeleSign adapter against byoc-sim's TeleSign simulator over real
//! loopback HTTP.

mod faults;
mod inbound;
mod props;
mod send;
mod support;
