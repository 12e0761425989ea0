//! Rampart's daemon: the thin IO shell around the sans-IO cores (DESIGN.md §1). Today it holds
//! the configuration layer — the TOML file turned into a typed, immutable [`config::Config`]
//! shared as `Arc`, and from it the SPD, the PAD and the IKE engine's connections. The event
//! loop, workers and control server join it later.
#![forbid(unsafe_code)]

pub mod config;
