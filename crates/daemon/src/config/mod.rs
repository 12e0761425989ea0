//! The configuration file (DESIGN.md §4): TOML with strongSwan's concepts and proposal keywords,
//! turned into a typed, immutable [`Config`] shared as `Arc` and replaced whole on reload
//! (STYLE.md guideline 14).
//!
//! Loading runs in three steps: [`parse`] reads the TOML into the raw, spanned structs of
//! [`raw`] (unknown keys and wrong types are reported there); [`validate`] checks every value
//! and builds the typed config, collecting *every* mistake as `file:line:column: message`
//! ([`ConfigError`]); [`build`] derives what the engines consume from a valid config — the SPD
//! ([`Config::spd`]), the PAD ([`Config::pad`]) and the IKE connections
//! ([`Config::ike_connections`]).
//!
//! Secrets (pre-shared keys, private keys) live in zeroizing types whose `Debug` is redacted, so
//! `{:?}` of a whole [`Config`] never shows them; the file text is wiped after parsing.

mod build;
mod diff;
mod error;
mod parse;
mod raw;
mod validate;
mod values;

use core::time::Duration;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rampart_crypto::SecretBytes;
use rampart_crypto::cert::TrustAnchors;
use rampart_crypto::proposal::ProposalSpec;
use rampart_ike::{CertSigner, Mode, Retransmission};
use rampart_policy::pad::Identity;
use rampart_policy::{Direction, ReqId, Selector, TrafficSelector};
use zeroize::Zeroizing;

pub use build::IKE_PORT;
pub use diff::ConfigDiff;
pub use error::{ConfigError, ConfigErrors, LoadError};
pub use validate::{DEFAULT_ESP_PROPOSALS, DEFAULT_IKE_PROPOSALS};
pub use values::IdSpec;

/// The default control socket path.
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/rampart/rampart.sock";
/// Default IKE SA rekey time (strongSwan's `rekey_time` for IKE SAs).
pub const DEFAULT_IKE_REKEY_TIME: Duration = Duration::from_secs(4 * 3600);
/// Default child SA rekey time.
pub const DEFAULT_CHILD_REKEY_TIME: Duration = Duration::from_secs(3600);
/// Largest `retransmit_tries` accepted.
pub const MAX_RETRANSMIT_TRIES: u32 = 16;
/// Default anti-replay window in packets.
pub const DEFAULT_REPLAY_WINDOW: u32 = 32;
/// Largest anti-replay window accepted.
pub const MAX_REPLAY_WINDOW: u32 = 4096;
/// Default SPD priority of a child's PROTECT entries (lower matches first).
pub const DEFAULT_CHILD_PRIORITY: u32 = 1000;
/// Default SPD priority of a `[[policies]]` entry: ahead of the children's PROTECT entries.
pub const DEFAULT_POLICY_PRIORITY: u32 = 100;

/// A whole, valid configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it was read from (relative paths inside it were resolved against its directory).
    pub file: PathBuf,
    /// `[daemon]`.
    pub daemon: DaemonConfig,
    /// `[[connections]]`, in file order.
    pub connections: Vec<ConnectionConfig>,
    /// `[[policies]]`, in file order.
    pub policies: Vec<PolicyConfig>,
}

/// `[daemon]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// `control_socket`: where the control server listens.
    pub control_socket: PathBuf,
    /// `allow_key_export`: whether the control server may hand out SA keys (for decrypting
    /// captures); weakens security, hence the name.
    pub dangerous_allow_key_export: bool,
    /// `retransmit_timeout` and `retransmit_tries`: when an IKE request is sent again, and
    /// after how many transmissions the peer is declared dead (RFC 7296 §2.1, §2.4).
    pub retransmission: Retransmission,
}

/// What to do when a peer stops answering liveness checks (strongSwan's `dpd_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DpdAction {
    /// Close the IKE SA and its children.
    Clear,
    /// Close, then initiate again at once.
    Restart,
    /// Close, and install trap policies so that traffic brings it up again.
    Trap,
}

/// When a child SA is set up (strongSwan's `start_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartAction {
    /// Only when asked (a command or the peer).
    None,
    /// On demand: when the first packet needs it (an ACQUIRE from the SPD).
    Trap,
    /// As soon as the daemon starts.
    Start,
}

/// How we authenticate (`local = { auth = ... }`).
#[derive(Debug, Clone)]
pub enum LocalAuthConfig {
    /// `auth = "psk"`: the key from the matching `[[secrets]]` entry.
    Psk(PskRef),
    /// `auth = "pubkey"`: a private key and its certificate (chain).
    Pubkey {
        /// `cert`, resolved.
        cert: PathBuf,
        /// `key`, resolved.
        key: PathBuf,
        /// The loaded key and chain.
        signer: Arc<CertSigner>,
    },
}

/// How the peer must authenticate (`remote = { auth = ... }`).
#[derive(Debug, Clone)]
pub enum RemoteAuthConfig {
    /// `auth = "psk"`: the key from the matching `[[secrets]]` entry.
    Psk(PskRef),
    /// `auth = "pubkey"`: a certificate chaining to one of `cacerts`.
    Pubkey {
        /// `cacerts`, resolved.
        cacerts: Vec<PathBuf>,
        /// The loaded trust anchors.
        anchors: TrustAnchors,
    },
}

/// A pre-shared key found in `[[secrets]]`.
#[derive(Debug, Clone)]
pub struct PskRef {
    /// Which entry: `secrets[N]` (0-based, file order).
    pub secret: String,
    /// The key; redacted in `Debug`, zeroized on drop.
    pub key: SecretBytes,
}

/// `[[connections]]`.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// `name`: unique.
    pub name: String,
    /// `local_addrs`: our addresses (empty: any, `%any`).
    pub local_addrs: Vec<IpAddr>,
    /// `remote_addrs`: the peer's addresses (empty: any, `%any`; responder only).
    pub remote_addrs: Vec<IpAddr>,
    /// `proposals`: IKE proposals in preference order.
    pub proposals: Vec<ProposalSpec>,
    /// `local.id` (default: the first local address, or the certificate's subject).
    pub local_id: Identity,
    /// `remote.id` (default: the first remote address).
    pub remote_id: Identity,
    /// `local`.
    pub local_auth: LocalAuthConfig,
    /// `remote`.
    pub remote_auth: RemoteAuthConfig,
    /// `dpd_delay` (default: off).
    pub dpd_delay: Option<Duration>,
    /// `dpd_action` (default: clear).
    pub dpd_action: DpdAction,
    /// `rekey_time` of the IKE SA (default 4h).
    pub rekey_time: Duration,
    /// `encap`: force UDP encapsulation of ESP even without a NAT (default false), as
    /// strongSwan's `encap = yes`; needed against peers whose data plane only does ESP-in-UDP.
    pub force_encap: bool,
    /// `[[connections.children]]`.
    pub children: Vec<ChildSaConfig>,
}

/// `[[connections.children]]`.
#[derive(Debug, Clone)]
pub struct ChildSaConfig {
    /// `name`: unique within the connection.
    pub name: String,
    /// `local_ts` (default `dynamic`: our address).
    pub local_ts: Vec<TrafficSelector>,
    /// `remote_ts` (default `dynamic`: the peer's address).
    pub remote_ts: Vec<TrafficSelector>,
    /// `esp_proposals` in preference order.
    pub esp_proposals: Vec<ProposalSpec>,
    /// `mode` (default tunnel).
    pub mode: Mode,
    /// `start_action` (default none).
    pub start_action: StartAction,
    /// `rekey_time` (default 1h).
    pub rekey_time: Duration,
    /// `life_time`: hard lifetime (default `rekey_time` + 10%).
    pub life_time: Duration,
    /// `life_bytes`: hard byte limit (default none).
    pub life_bytes: Option<u64>,
    /// `life_packets`: hard packet limit (default none).
    pub life_packets: Option<u64>,
    /// `replay_window` in packets, 0 disables (default 32, at most 4096).
    pub replay_window: u32,
    /// `priority` of the child's PROTECT entries in the SPD (default 1000).
    pub priority: u32,
    /// The request id linking the SPD entries and the SAs (1, 2, ... in file order).
    pub reqid: ReqId,
}

/// What a `[[policies]]` entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyAction {
    /// Let the traffic pass in clear.
    Bypass,
    /// Drop it.
    Discard,
}

/// `[[policies]]`: a BYPASS or DISCARD SPD entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// `name`: unique among policies.
    pub name: String,
    /// `direction`: `"in"`, `"out"` or `"both"` (default both).
    pub directions: Vec<Direction>,
    /// The selector sets built from `local` × `remote` (pairs of one family), `protocol`,
    /// `local_port`, `remote_port`.
    pub selectors: Vec<Selector>,
    /// `action`.
    pub action: PolicyAction,
    /// `priority` (default 100).
    pub priority: u32,
}

impl Config {
    /// Reads and validates the file at `path`. Relative paths inside it are taken from its
    /// directory; errors name `path` as given.
    pub fn load(path: &Path) -> Result<Arc<Self>, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = Zeroizing::new(text);
        Self::from_toml(&text, path).map_err(LoadError::Invalid)
    }

    /// Validates configuration text said to come from `path` (used for messages and to resolve
    /// relative paths; the file itself is not read).
    pub fn from_toml(text: &str, path: &Path) -> Result<Arc<Self>, ConfigErrors> {
        let mut diag = error::Diagnostics::new(path, text);
        let raw = parse::parse(&mut diag);
        let config = raw.and_then(|raw| validate::validate(raw, path, &mut diag));
        match config {
            Some(config) if !diag.has_errors() => Ok(Arc::new(config)),
            _ => Err(diag.finish()),
        }
    }

    /// The connection named `name`.
    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// The number of child SA configurations in all connections.
    pub fn child_count(&self) -> usize {
        self.connections.iter().map(|c| c.children.len()).sum()
    }
}

#[cfg(test)]
mod tests;
