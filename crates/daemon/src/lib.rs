//! Rampart's daemon: the thin IO shell around the sans-IO cores (DESIGN.md §1). It holds the
//! configuration layer — the TOML file turned into a typed, immutable [`config::Config`]
//! shared as `Arc`, and from it the SPD, the PAD and the IKE engine's connections — and
//! [`run`]: the IKE control plane over real sockets with its control socket. The data plane
//! and its workers join it later.
#![forbid(unsafe_code)]

pub mod config;
pub mod run;
