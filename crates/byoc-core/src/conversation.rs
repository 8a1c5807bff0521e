//! Conversations: participants, states, context variables, transcript (being built).
