//! What a reload changes: the connections of two configurations compared by name, each found
//! unchanged, changed, added or removed (`rampart reload`, SIGHUP). The daemon leaves the SAs of
//! unchanged connections alone, deletes those of removed and changed ones, and starts changed and
//! added ones per their `start_action`.
//!
//! "Unchanged" means every setting that shapes negotiation or the traffic is the same: addresses,
//! proposals, identities, credentials (the pre-shared key itself, whichever `[[secrets]]` entry
//! holds it — so a changed secret changes every connection using it; the certificate and CA
//! files' contents as loaded), DPD, rekey times, encapsulation, and every child with all its
//! settings, in order. Not compared: the request ids, which follow the file order of all
//! children and so shift when a connection is added before another; they name SPD entries only.

use rampart_crypto::cert::Certificate;

use super::{ChildSaConfig, Config, ConnectionConfig, LocalAuthConfig, PskRef, RemoteAuthConfig};

/// How the connections of one configuration differ from the next, by name; each list is in
/// file order (`removed`: the old file's order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// In both, with the same settings.
    pub unchanged: Vec<String>,
    /// In both, with different settings.
    pub changed: Vec<String>,
    /// Only in the new configuration.
    pub added: Vec<String>,
    /// Only in the old configuration.
    pub removed: Vec<String>,
}

impl Config {
    /// How the connections of `new` differ from this configuration's.
    pub fn diff(&self, new: &Self) -> ConfigDiff {
        let mut d = ConfigDiff::default();
        for c in &new.connections {
            match self.connection(&c.name) {
                None => d.added.push(c.name.clone()),
                Some(old) if old.same_as(c) => d.unchanged.push(c.name.clone()),
                Some(_) => d.changed.push(c.name.clone()),
            }
        }
        d.removed = self
            .connections
            .iter()
            .filter(|c| new.connection(&c.name).is_none())
            .map(|c| c.name.clone())
            .collect();
        d
    }
}

impl ConnectionConfig {
    /// Whether `other` negotiates and protects exactly as this connection does: the same
    /// addresses, proposals, identities, credentials (the pre-shared key itself; the
    /// certificate and CA contents as loaded), DPD and rekey settings, encapsulation, and the
    /// same children in the same order with all their settings. Request ids are not compared
    /// (they follow the file order of all children).
    pub fn same_as(&self, other: &Self) -> bool {
        self.name == other.name
            && self.local_addrs == other.local_addrs
            && self.remote_addrs == other.remote_addrs
            && self.proposals == other.proposals
            && self.local_id == other.local_id
            && self.remote_id == other.remote_id
            && same_local_auth(&self.local_auth, &other.local_auth)
            && same_remote_auth(&self.remote_auth, &other.remote_auth)
            && self.dpd_delay == other.dpd_delay
            && self.dpd_action == other.dpd_action
            && self.rekey_time == other.rekey_time
            && self.force_encap == other.force_encap
            && self.children.len() == other.children.len()
            && self
                .children
                .iter()
                .zip(&other.children)
                .all(|(a, b)| same_child(a, b))
    }
}

fn same_psk(a: &PskRef, b: &PskRef) -> bool {
    a.key == b.key
}

fn same_local_auth(a: &LocalAuthConfig, b: &LocalAuthConfig) -> bool {
    match (a, b) {
        (LocalAuthConfig::Psk(a), LocalAuthConfig::Psk(b)) => same_psk(a, b),
        (
            LocalAuthConfig::Pubkey {
                cert: ca,
                key: ka,
                signer: sa,
            },
            LocalAuthConfig::Pubkey {
                cert: cb,
                key: kb,
                signer: sb,
            },
        ) => {
            // The key matches the certificate (checked on load): the same certificate bytes
            // from the same files mean the same key pair.
            ca == cb && ka == kb && sa.end_entity().der() == sb.end_entity().der()
        }
        _ => false,
    }
}

fn same_remote_auth(a: &RemoteAuthConfig, b: &RemoteAuthConfig) -> bool {
    match (a, b) {
        (RemoteAuthConfig::Psk(a), RemoteAuthConfig::Psk(b)) => same_psk(a, b),
        (
            RemoteAuthConfig::Pubkey {
                cacerts: pa,
                anchors: aa,
            },
            RemoteAuthConfig::Pubkey {
                cacerts: pb,
                anchors: ab,
            },
        ) => {
            let der = |l: &[Certificate]| l.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>();
            pa == pb && der(aa.anchors()) == der(ab.anchors())
        }
        _ => false,
    }
}

fn same_child(a: &ChildSaConfig, b: &ChildSaConfig) -> bool {
    a.name == b.name
        && a.local_ts == b.local_ts
        && a.remote_ts == b.remote_ts
        && a.esp_proposals == b.esp_proposals
        && a.mode == b.mode
        && a.start_action == b.start_action
        && a.rekey_time == b.rekey_time
        && a.life_time == b.life_time
        && a.life_bytes == b.life_bytes
        && a.life_packets == b.life_packets
        && a.replay_window == b.replay_window
        && a.priority == b.priority
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const SECRETS: &str = r#"
[[secrets]]
ids = ["gw-a.test", "gw-b.test"]
psk = "first key 0123456789"

[[secrets]]
ids = ["gw-a.test", "gw-c.test", "gw-d.test"]
psk = "second key 0123456789"
"#;

    fn conn(name: &str, peer: &str, extra: &str, child_extra: &str) -> String {
        format!(
            r#"
[[connections]]
name = "{name}"
local_addrs = ["192.0.2.1"]
remote_addrs = ["{peer}"]
local = {{ auth = "psk", id = "gw-a.test" }}
remote = {{ auth = "psk", id = "gw-{name}.test" }}
{extra}

[[connections.children]]
name = "{name}-net"
local_ts = ["198.51.100.0/24"]
remote_ts = ["203.0.113.0/24"]
{child_extra}
"#
        )
    }

    fn load(text: &str) -> std::sync::Arc<Config> {
        Config::from_toml(text, Path::new("t.toml")).expect("valid")
    }

    fn names(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| (*s).to_owned()).collect()
    }

    /// `b` and `c` connections with the two secrets, plus `more`.
    fn base(b_extra: &str, b_child: &str, more: &str) -> String {
        format!(
            "{SECRETS}{}{}{more}",
            conn("b", "192.0.2.2", b_extra, b_child),
            conn("c", "192.0.2.3", "", "")
        )
    }

    #[test]
    fn the_same_file_changes_nothing() {
        let text = base("", "", "");
        let d = load(&text).diff(&load(&text));
        assert_eq!(d.unchanged, names(&["b", "c"]));
        assert!(d.changed.is_empty() && d.added.is_empty() && d.removed.is_empty());
    }

    #[test]
    fn added_and_removed_connections_leave_the_others_alone() {
        let old = load(&base("", "", ""));
        // `d` comes first: the children's request ids all shift, which is not a change.
        let new = load(&format!(
            "{SECRETS}{}{}",
            conn("d", "192.0.2.4", "", ""),
            conn("b", "192.0.2.2", "", "")
        ));
        assert_ne!(
            old.connections[0].children[0].reqid,
            new.connections[1].children[0].reqid
        );
        let d = old.diff(&new);
        assert_eq!(d.unchanged, names(&["b"]));
        assert_eq!(d.added, names(&["d"]));
        assert_eq!(d.removed, names(&["c"]));
        assert!(d.changed.is_empty());
    }

    #[test]
    fn each_setting_change_is_a_change() {
        let old = load(&base("", "", ""));
        for (extra, child) in [
            (r#"proposals = ["aes128gcm16-prfsha256-x25519"]"#, ""),
            (r#"dpd_delay = "10s""#, ""),
            (r#"dpd_action = "restart""#, ""),
            (r#"rekey_time = "2h""#, ""),
            ("encap = true", ""),
            ("", r#"start_action = "start""#),
            ("", r#"esp_proposals = ["aes128gcm16"]"#),
            ("", r#"life_packets = 1000"#),
            ("", "replay_window = 64"),
            ("", r#"rekey_time = "30m""#),
            ("", "priority = 7"),
            (
                "",
                "\n[[connections.children]]\nname = \"more\"\nlocal_ts = [\"198.51.100.0/25\"]\nremote_ts = [\"203.0.113.0/25\"]",
            ),
        ] {
            let d = old.diff(&load(&base(extra, child, "")));
            assert_eq!(d.changed, names(&["b"]), "{extra} {child}");
            assert_eq!(d.unchanged, names(&["c"]), "{extra} {child}");
        }
    }

    #[test]
    fn a_changed_secret_changes_the_connections_using_it() {
        let old = load(&base("", "", ""));
        let text = base("", "", "").replace("first key", "other key");
        let d = old.diff(&load(&text));
        assert_eq!(d.changed, names(&["b"]));
        assert_eq!(d.unchanged, names(&["c"]));
        // Reordering the secrets keeps every key where it was: no change.
        let (first, second) = SECRETS.split_at(
            SECRETS
                .find("\n[[secrets]]\nids = [\"gw-a.test\", \"gw-c")
                .expect("two entries"),
        );
        let swapped = base("", "", "").replacen(SECRETS, &format!("{second}\n{first}"), 1);
        let d = old.diff(&load(&swapped));
        assert_eq!(d.unchanged, names(&["b", "c"]));
    }
}
