//! udp — placeholder, filled in by the wire-IP work.
