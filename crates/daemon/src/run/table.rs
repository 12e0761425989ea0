//! The SA table the control socket shows: IKE SAs and their child SAs as the engine's events
//! reported them. The data plane (`dataplane.rs`) holds the child SAs' keys for its work; the
//! table keeps a copy ([`ChildKeys`], zeroized on drop, never logged) only for
//! [`SaTable::export_keys`], the `export_keys` request that hands out every key for decrypting
//! captures — refused unless `[daemon] allow_key_export = true`.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use rampart_crypto::{EncrAlg, IntegAlg, SecretBytes};
use rampart_ike::{ChildSa, IkeKeyExport, IkeSa, IkeSaHandle, Instant, Mode};
use serde_json::{Value, json};

use super::control::error;

/// The answer to `export_keys` when `allow_key_export` is off.
pub(crate) const EXPORT_DISABLED: &str = "key export is disabled; set allow_key_export = true in [daemon] of the configuration \
     and restart the daemon";

/// What an IKE SA is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IkeState {
    /// IKE_SA_INIT / IKE_AUTH under way.
    Connecting,
    /// Authenticated.
    Established,
    /// Being deleted.
    Deleting,
}

/// One IKE SA.
#[derive(Debug, Clone)]
pub(crate) struct IkeEntry {
    pub(crate) name: String,
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    pub(crate) initiator: bool,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) state: IkeState,
    pub(crate) established_at: Option<Instant>,
    pub(crate) nat_detected: bool,
    pub(crate) peer_id: Option<String>,
}

/// One direction of a child SA, for key export.
#[derive(Debug, Clone)]
pub(crate) struct DirectionKeys {
    pub(crate) spi: u32,
    /// Encryption key (AEADs: the key followed by the 4-byte salt).
    pub(crate) encr: SecretBytes,
    /// Integrity key; empty for AEADs.
    pub(crate) integ: SecretBytes,
}

/// What decrypting a child SA's packets takes: algorithms, outer addresses and both
/// directions' keys. `SecretBytes` zeroizes them when the entry drops; `Debug` redacts them.
#[derive(Debug, Clone)]
pub(crate) struct ChildKeys {
    pub(crate) encr: EncrAlg,
    pub(crate) integ: Option<IntegAlg>,
    pub(crate) local: IpAddr,
    pub(crate) remote: IpAddr,
    pub(crate) inbound: DirectionKeys,
    pub(crate) outbound: DirectionKeys,
}

/// One child SA.
#[derive(Debug, Clone)]
pub(crate) struct ChildEntry {
    pub(crate) ike: IkeSaHandle,
    pub(crate) name: String,
    pub(crate) spi_in: u32,
    pub(crate) spi_out: u32,
    pub(crate) local_ts: Vec<String>,
    pub(crate) remote_ts: Vec<String>,
    pub(crate) mode: Mode,
    pub(crate) udp_encap: Option<(u16, u16)>,
    pub(crate) established_at: Instant,
    /// Kept only when `allow_key_export` is on: no second copy of the keys otherwise.
    pub(crate) keys: Option<ChildKeys>,
}

impl ChildEntry {
    /// The entry for a child SA the engine reported.
    pub(crate) fn new(ike: IkeSaHandle, c: &ChildSa, now: Instant, keep_keys: bool) -> Self {
        Self {
            ike,
            name: c.name.clone(),
            spi_in: c.inbound.spi,
            spi_out: c.outbound.spi,
            local_ts: c.local_ts.iter().map(ToString::to_string).collect(),
            remote_ts: c.remote_ts.iter().map(ToString::to_string).collect(),
            mode: c.mode,
            udp_encap: c.udp_encap.map(|u| (u.local_port, u.remote_port)),
            established_at: now,
            keys: keep_keys.then(|| ChildKeys {
                encr: c.encr,
                integ: c.integ,
                local: c.local_addr.ip(),
                remote: c.remote_addr.ip(),
                inbound: DirectionKeys {
                    spi: c.inbound.spi,
                    encr: c.inbound.encr_key.clone(),
                    integ: c.inbound.integ_key.clone(),
                },
                outbound: DirectionKeys {
                    spi: c.outbound.spi,
                    encr: c.outbound.encr_key.clone(),
                    integ: c.outbound.integ_key.clone(),
                },
            }),
        }
    }
}

/// IKE SAs by handle, child SAs by inbound SPI.
#[derive(Debug, Default)]
pub(crate) struct SaTable {
    pub(crate) ike: BTreeMap<IkeSaHandle, IkeEntry>,
    pub(crate) children: BTreeMap<u32, ChildEntry>,
}

fn age(now: Instant, at: Instant) -> u64 {
    now.saturating_duration_since(at).as_secs()
}

impl SaTable {
    /// The table as JSON: a list of IKE SAs, each with its children.
    pub(crate) fn to_json(&self, now: Instant) -> Value {
        let list: Vec<Value> = self
            .ike
            .iter()
            .map(|(h, e)| {
                let children: Vec<Value> = self
                    .children
                    .values()
                    .filter(|c| c.ike == *h)
                    .map(|c| child_json(c, now))
                    .collect();
                json!({
                    "name": e.name,
                    "spi_i": format!("{:016x}", e.spi_i),
                    "spi_r": format!("{:016x}", e.spi_r),
                    "initiator": e.initiator,
                    "local": e.local.to_string(),
                    "remote": e.remote.to_string(),
                    "state": match e.state {
                        IkeState::Connecting => "connecting",
                        IkeState::Established => "established",
                        IkeState::Deleting => "deleting",
                    },
                    "established_secs": e.established_at.map(|t| age(now, t)),
                    "nat_detected": e.nat_detected,
                    "peer_id": e.peer_id,
                    "children": children,
                })
            })
            .collect();
        Value::Array(list)
    }
}

impl SaTable {
    /// The `export_keys` answer (docs/control-protocol.md): every IKE SA's SK_* keys and every
    /// child SA's ESP keys, one entry per direction — or the refusal when `allowed` is false
    /// (`[daemon] allow_key_export`).
    pub(crate) fn export_keys(&self, allowed: bool, sas: &BTreeMap<IkeSaHandle, IkeSa>) -> Value {
        if !allowed {
            return error(EXPORT_DISABLED);
        }
        let ike: Vec<Value> = sas
            .iter()
            .filter_map(|(h, sa)| {
                let k = sa.dangerous_export_keys()?;
                let name = self.ike.get(h).map(|e| e.name.as_str()).unwrap_or_default();
                Some(ike_keys_json(name, sa, &k))
            })
            .collect();
        let children: Vec<Value> = self
            .children
            .values()
            .filter_map(|c| Some((c, c.keys.as_ref()?)))
            .flat_map(|(c, k)| {
                let encap = c.udp_encap;
                [
                    esp_keys_json(
                        c,
                        k,
                        "in",
                        &k.inbound,
                        (k.remote, k.local),
                        encap.map(|(l, r)| (r, l)),
                    ),
                    esp_keys_json(c, k, "out", &k.outbound, (k.local, k.remote), encap),
                ]
            })
            .collect();
        json!({ "ok": true, "ike_sas": ike, "child_sas": children })
    }
}

fn encr_json(e: EncrAlg) -> Value {
    json!({ "id": e.id().0, "key_bits": e.key_bits() })
}

fn integ_json(i: Option<IntegAlg>) -> Value {
    i.map_or(Value::Null, |i| json!({ "id": i.id().0 }))
}

fn ike_keys_json(name: &str, sa: &IkeSa, k: &IkeKeyExport) -> Value {
    let hex = |s: &SecretBytes| hex::encode(s.expose());
    json!({
        "name": name,
        "spi_i": format!("{:016x}", k.spi_i),
        "spi_r": format!("{:016x}", k.spi_r),
        "initiator": sa.is_initiator(),
        "local": sa.local_addr().to_string(),
        "remote": sa.remote_addr().to_string(),
        "encr": encr_json(k.encr),
        "integ": integ_json(k.integ),
        "prf": { "id": k.prf.id().0 },
        "sk_d": hex(&k.sk_d),
        "sk_ai": hex(&k.sk_ai),
        "sk_ar": hex(&k.sk_ar),
        "sk_ei": hex(&k.sk_ei),
        "sk_er": hex(&k.sk_er),
        "sk_pi": hex(&k.sk_pi),
        "sk_pr": hex(&k.sk_pr),
    })
}

/// One ESP SA: `dir` (`direction`, "in" or "out") from `src` to `dst`, with UDP ports
/// `(src, dst)` when encapsulated.
fn esp_keys_json(
    c: &ChildEntry,
    k: &ChildKeys,
    direction: &str,
    dir: &DirectionKeys,
    (src, dst): (IpAddr, IpAddr),
    encap: Option<(u16, u16)>,
) -> Value {
    json!({
        "name": c.name,
        "direction": direction,
        "spi": format!("{:08x}", dir.spi),
        "src": src.to_string(),
        "dst": dst.to_string(),
        "udp_encap": encap.map(|(s, d)| json!({ "src_port": s, "dst_port": d })),
        "encr": encr_json(k.encr),
        "encr_key": hex::encode(dir.encr.expose()),
        "integ": integ_json(k.integ),
        "integ_key": hex::encode(dir.integ.expose()),
    })
}

fn child_json(c: &ChildEntry, now: Instant) -> Value {
    json!({
        "name": c.name,
        "spi_in": format!("{:08x}", c.spi_in),
        "spi_out": format!("{:08x}", c.spi_out),
        "local_ts": c.local_ts,
        "remote_ts": c.remote_ts,
        "mode": match c.mode {
            Mode::Tunnel => "tunnel",
            Mode::Transport => "transport",
        },
        "udp_encap": c.udp_encap.map(|(l, r)| json!({"local_port": l, "remote_port": r})),
        "established_secs": age(now, c.established_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_crypto::AeadAlg;

    fn entry() -> ChildEntry {
        let ip = |s: &str| s.parse::<IpAddr>().expect("literal address");
        ChildEntry {
            ike: IkeSaHandle(7),
            name: "net".into(),
            spi_in: 0x1111_2222,
            spi_out: 0x3333_4444,
            local_ts: vec![],
            remote_ts: vec![],
            mode: Mode::Tunnel,
            udp_encap: Some((4500, 4501)),
            established_at: Instant::ZERO,
            keys: Some(ChildKeys {
                encr: EncrAlg::Aead(AeadAlg::AES_128_GCM_16),
                integ: None,
                local: ip("192.0.2.1"),
                remote: ip("192.0.2.2"),
                inbound: DirectionKeys {
                    spi: 0x1111_2222,
                    encr: SecretBytes::from_slice(&[0xaa; 20]),
                    integ: SecretBytes::from_slice(&[]),
                },
                outbound: DirectionKeys {
                    spi: 0x3333_4444,
                    encr: SecretBytes::from_slice(&[0xbb; 20]),
                    integ: SecretBytes::from_slice(&[]),
                },
            }),
        }
    }

    #[test]
    fn export_is_refused_unless_allowed() {
        let mut t = SaTable::default();
        t.children.insert(0x1111_2222, entry());
        let v = t.export_keys(false, &BTreeMap::new());
        assert_eq!(v["ok"], false);
        assert!(
            v["error"]
                .as_str()
                .is_some_and(|e| e.contains("allow_key_export = true") && e.contains("[daemon]")),
            "{v}"
        );
        assert!(!v.to_string().contains("aaaa"), "no key in a refusal: {v}");
    }

    #[test]
    fn export_lists_both_directions_with_addresses_and_keys() {
        let mut t = SaTable::default();
        t.children.insert(0x1111_2222, entry());
        let v = t.export_keys(true, &BTreeMap::new());
        assert_eq!(v["ok"], true);
        assert_eq!(v["ike_sas"], json!([]));
        let c = v["child_sas"].as_array().expect("list");
        assert_eq!(c.len(), 2);
        let (i, o) = (&c[0], &c[1]);
        assert_eq!(i["direction"], "in");
        assert_eq!(i["spi"], "11112222");
        assert_eq!(
            (&i["src"], &i["dst"]),
            (&json!("192.0.2.2"), &json!("192.0.2.1"))
        );
        assert_eq!(
            i["udp_encap"],
            json!({ "src_port": 4501, "dst_port": 4500 })
        );
        assert_eq!(i["encr_key"], "aa".repeat(20));
        assert_eq!(o["direction"], "out");
        assert_eq!(o["spi"], "33334444");
        assert_eq!(
            (&o["src"], &o["dst"]),
            (&json!("192.0.2.1"), &json!("192.0.2.2"))
        );
        assert_eq!(
            o["udp_encap"],
            json!({ "src_port": 4500, "dst_port": 4501 })
        );
        assert_eq!(o["encr_key"], "bb".repeat(20));
        assert_eq!(o["encr"], json!({ "id": 20, "key_bits": 128 }));
        assert_eq!(o["integ"], Value::Null);
        assert_eq!(o["integ_key"], "");
    }

    #[test]
    fn debug_never_shows_keys() {
        let text = format!("{:?}", entry());
        assert!(!text.contains("170") && !text.contains("aa"), "{text}");
    }
}
