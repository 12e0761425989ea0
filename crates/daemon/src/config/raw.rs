//! The configuration file as TOML says it, before validation: every key of DESIGN.md §4 with the
//! byte span of its value, so that [`super::validate`] can point at the exact place of each
//! mistake. Unknown keys are rejected here (`deny_unknown_fields`); values that need checking
//! stay strings (or raw numbers) and are checked — all of them, not only the first bad one — by
//! the validator.

use serde::Deserialize;
use toml::Spanned;
use zeroize::Zeroizing;

/// A string value with its span.
pub(crate) type Str = Spanned<String>;

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) daemon: Option<Spanned<RawDaemon>>,
    #[serde(default)]
    pub(crate) secrets: Vec<Spanned<RawSecret>>,
    #[serde(default)]
    pub(crate) connections: Vec<Spanned<RawConnection>>,
    #[serde(default)]
    pub(crate) policies: Vec<Spanned<RawPolicy>>,
}

/// `[daemon]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDaemon {
    pub(crate) control_socket: Option<Str>,
    pub(crate) allow_key_export: Option<Spanned<bool>>,
    pub(crate) retransmit_timeout: Option<Str>,
    pub(crate) retransmit_tries: Option<Spanned<i64>>,
}

/// A pre-shared key as written; the text is wiped when dropped.
pub(crate) struct RawPsk(pub(crate) Zeroizing<String>);

impl<'de> Deserialize<'de> for RawPsk {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self(Zeroizing::new(s)))
    }
}

/// `[[secrets]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecret {
    pub(crate) ids: Option<Spanned<Vec<Str>>>,
    pub(crate) psk: Option<Spanned<RawPsk>>,
}

/// `local = { ... }` of a connection.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLocal {
    pub(crate) auth: Option<Str>,
    pub(crate) id: Option<Str>,
    pub(crate) cert: Option<Str>,
    pub(crate) key: Option<Str>,
}

/// `remote = { ... }` of a connection.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRemote {
    pub(crate) auth: Option<Str>,
    pub(crate) id: Option<Str>,
    pub(crate) cacerts: Option<Vec<Str>>,
}

/// `[[connections]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConnection {
    pub(crate) name: Option<Str>,
    #[serde(default)]
    pub(crate) local_addrs: Vec<Str>,
    #[serde(default)]
    pub(crate) remote_addrs: Vec<Str>,
    pub(crate) proposals: Option<Spanned<Vec<Str>>>,
    pub(crate) local: Option<Spanned<RawLocal>>,
    pub(crate) remote: Option<Spanned<RawRemote>>,
    pub(crate) dpd_delay: Option<Str>,
    pub(crate) dpd_action: Option<Str>,
    pub(crate) rekey_time: Option<Str>,
    pub(crate) encap: Option<Spanned<bool>>,
    pub(crate) mobike: Option<Spanned<bool>>,
    #[serde(default)]
    pub(crate) children: Vec<Spanned<RawChild>>,
}

/// A byte or packet count: an integer, or a string with a unit (`"1GB"`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawCount {
    Int(i64),
    Text(String),
}

/// `[[connections.children]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChild {
    pub(crate) name: Option<Str>,
    pub(crate) local_ts: Option<Spanned<Vec<Str>>>,
    pub(crate) remote_ts: Option<Spanned<Vec<Str>>>,
    pub(crate) esp_proposals: Option<Spanned<Vec<Str>>>,
    pub(crate) mode: Option<Str>,
    pub(crate) start_action: Option<Str>,
    pub(crate) rekey_time: Option<Str>,
    pub(crate) life_time: Option<Str>,
    pub(crate) life_bytes: Option<Spanned<RawCount>>,
    pub(crate) life_packets: Option<Spanned<i64>>,
    pub(crate) replay_window: Option<Spanned<i64>>,
    pub(crate) priority: Option<Spanned<i64>>,
}

/// A port selector: an integer, or a string (`"1000-2000"`, `"any"`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawPort {
    Int(i64),
    Text(String),
}

/// `[[policies]]`: a BYPASS or DISCARD entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub(crate) name: Option<Str>,
    pub(crate) direction: Option<Str>,
    pub(crate) local: Option<Spanned<Vec<Str>>>,
    pub(crate) remote: Option<Spanned<Vec<Str>>>,
    pub(crate) protocol: Option<Str>,
    pub(crate) local_port: Option<Spanned<RawPort>>,
    pub(crate) remote_port: Option<Spanned<RawPort>>,
    pub(crate) action: Option<Str>,
    pub(crate) priority: Option<Spanned<i64>>,
}

/// Every key of each table, for "unknown key" messages: (keys, table name).
pub(crate) const TABLES: &[(&[&str], &str)] = &[
    (
        &["daemon", "secrets", "connections", "policies"],
        "the top level",
    ),
    (
        &[
            "control_socket",
            "allow_key_export",
            "retransmit_timeout",
            "retransmit_tries",
        ],
        "[daemon]",
    ),
    (&["ids", "psk"], "[[secrets]]"),
    (&["auth", "id", "cert", "key"], "local"),
    (&["auth", "id", "cacerts"], "remote"),
    (
        &[
            "name",
            "local_addrs",
            "remote_addrs",
            "proposals",
            "local",
            "remote",
            "dpd_delay",
            "dpd_action",
            "rekey_time",
            "encap",
            "mobike",
            "children",
        ],
        "[[connections]]",
    ),
    (
        &[
            "name",
            "local_ts",
            "remote_ts",
            "esp_proposals",
            "mode",
            "start_action",
            "rekey_time",
            "life_time",
            "life_bytes",
            "life_packets",
            "replay_window",
            "priority",
        ],
        "[[connections.children]]",
    ),
    (
        &[
            "name",
            "direction",
            "local",
            "remote",
            "protocol",
            "local_port",
            "remote_port",
            "action",
            "priority",
        ],
        "[[policies]]",
    ),
];
