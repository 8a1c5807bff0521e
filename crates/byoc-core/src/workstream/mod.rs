//! Workstreams and routing (being built).
