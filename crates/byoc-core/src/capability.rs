//! Capability adaptation (in progress).
