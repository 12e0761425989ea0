//! ipv6 — placeholder, filled in by the wire-IP work.
