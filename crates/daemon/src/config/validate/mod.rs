//! Raw, spanned config to the typed [`Config`]: every value checked, every mistake recorded with
//! its position (the validator goes on after a mistake, so one run reports them all).
//!
//! Split by concept: this file has the top level, connections and children; [`auth`] the
//! identities, secrets and key/certificate files; [`policy`] the `[[policies]]` entries.

mod auth;
mod policy;

use core::ops::Range;
use core::time::Duration;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rampart_crypto::proposal::{ProposalError, ProposalSpec};
use rampart_ike::{Mode, Retransmission};
use rampart_policy::{Family, ReqId, TrafficSelector};
use rampart_wire::ike::iana::EsnId;
use toml::Spanned;

use super::error::{Diagnostics, closest, one_of};
use super::raw::{RawChild, RawConfig, RawConnection, RawCount, RawDaemon, Str};
use super::values;
use super::{
    ChildSaConfig, Config, ConnectionConfig, DEFAULT_CHILD_PRIORITY, DEFAULT_CHILD_REKEY_TIME,
    DEFAULT_CONTROL_SOCKET, DEFAULT_IKE_REKEY_TIME, DEFAULT_REPLAY_WINDOW, DaemonConfig, DpdAction,
    MAX_REPLAY_WINDOW, MAX_RETRANSMIT_TRIES, StartAction,
};

/// IKE proposals used when a connection lists none.
pub const DEFAULT_IKE_PROPOSALS: &[&str] = &[
    "aes256gcm16-aes128gcm16-prfsha384-prfsha256-x25519-ecp384-ecp256",
    "aes256-aes128-sha384-sha256-x25519-ecp384-ecp256",
];
/// ESP proposals used when a child lists none.
pub const DEFAULT_ESP_PROPOSALS: &[&str] = &["aes256gcm16-aes128gcm16", "aes256-aes128-sha256"];

/// The validator's state: where errors go and where relative paths start.
pub(crate) struct Validator<'d, 'a> {
    pub(crate) diag: &'d mut Diagnostics<'a>,
    pub(crate) base_dir: PathBuf,
}

/// Validates `raw` (read from `path`); `None` when anything is wrong (see `diag`).
pub(crate) fn validate(raw: RawConfig, path: &Path, diag: &mut Diagnostics<'_>) -> Option<Config> {
    let base_dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut v = Validator { diag, base_dir };
    let daemon = v.daemon(&raw);
    let secrets = v.secrets(&raw.secrets);
    let mut connections = Vec::new();
    let mut names: HashMap<String, Range<usize>> = HashMap::new();
    let mut reqid = 0u32;
    for conn in &raw.connections {
        if let Some(name) = &conn.get_ref().name {
            v.unique(&mut names, name, "connection", "connections");
        }
        if let Some(c) = v.connection(conn, &secrets, &mut reqid) {
            connections.push(c);
        }
    }
    let policies = v.policies(&raw.policies);
    let ok = !v.diag.has_errors() && connections.len() == raw.connections.len();
    ok.then(|| Config {
        file: path.to_path_buf(),
        daemon,
        connections,
        policies: policies.unwrap_or_default(),
    })
}

impl Validator<'_, '_> {
    /// Records an error at `span`.
    pub(crate) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.diag.error(span, message);
    }

    /// Records an error about something absent (see [`Diagnostics::absent`]).
    pub(crate) fn absent(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.diag.absent(span, message);
    }

    /// Checks `s` with `f`, recording its message at `s`'s position.
    pub(crate) fn check<T>(
        &mut self,
        s: &Str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        f(s.get_ref()).map_err(|e| self.error(s.span(), e)).ok()
    }

    /// One of `options` (the value as written), with a did-you-mean hint.
    pub(crate) fn choice<T: Copy>(
        &mut self,
        key: &str,
        s: &Str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let text = s.get_ref().trim();
        if let Some((_, t)) = options.iter().find(|(o, _)| *o == text) {
            return Some(*t);
        }
        let names: Vec<&str> = options.iter().map(|(o, _)| *o).collect();
        let hint = closest(text, &names)
            .map(|c| format!(" (did you mean \"{c}\"?)"))
            .unwrap_or_default();
        self.error(
            s.span(),
            format!(
                "{key} = \"{text}\" is not valid{hint} — use {}",
                one_of(&names)
            ),
        );
        None
    }

    /// Records `name` as used; reports a second use, and names that cannot be used.
    pub(crate) fn unique(
        &mut self,
        seen: &mut HashMap<String, Range<usize>>,
        name: &Str,
        what: &str,
        scope: &str,
    ) {
        let n = name.get_ref();
        if n.is_empty() || n.contains('/') || n.chars().any(char::is_whitespace) {
            self.error(
                name.span(),
                format!(
                    "{what} name \"{n}\" is not valid — use a non-empty name without '/' or spaces"
                ),
            );
            return;
        }
        if let Some(first) = seen.get(n) {
            let (line, _) = self.diag.line_col(first.start);
            self.error(
                name.span(),
                format!("duplicate {what} name \"{n}\" (first used on line {line}) — {scope} need unique names, rename one"),
            );
        } else {
            seen.insert(n.clone(), name.span());
        }
    }

    fn daemon(&mut self, raw: &RawConfig) -> DaemonConfig {
        let d = raw.daemon.as_ref().map(Spanned::get_ref);
        let control_socket = d.and_then(|d| d.control_socket.as_ref()).map_or_else(
            || PathBuf::from(DEFAULT_CONTROL_SOCKET),
            |s| {
                if s.get_ref().is_empty() {
                    self.error(
                        s.span(),
                        "control_socket is empty — give a path, e.g. \"/run/rampart/rampart.sock\"",
                    );
                }
                PathBuf::from(s.get_ref())
            },
        );
        DaemonConfig {
            control_socket,
            dangerous_allow_key_export: d
                .and_then(|d| d.allow_key_export.as_ref())
                .is_some_and(|b| *b.get_ref()),
            retransmission: self.retransmission(d),
        }
    }

    /// `retransmit_timeout` (the wait before the first retransmission, doubling after each)
    /// and `retransmit_tries` (transmissions in all before the peer is declared dead).
    fn retransmission(&mut self, d: Option<&RawDaemon>) -> Retransmission {
        let mut r = Retransmission::default();
        if let Some(s) = d.and_then(|d| d.retransmit_timeout.as_ref()) {
            if let Some(t) = self.nonzero_duration("retransmit_timeout", s) {
                r.initial = t;
            }
        }
        if let Some(n) = d.and_then(|d| d.retransmit_tries.as_ref()) {
            match u32::try_from(*n.get_ref())
                .ok()
                .filter(|t| (1..=MAX_RETRANSMIT_TRIES).contains(t))
            {
                Some(t) => r.tries = t,
                None => self.error(
                    n.span(),
                    format!(
                        "retransmit_tries = {} is out of range — use 1 to {MAX_RETRANSMIT_TRIES} transmissions",
                        n.get_ref()
                    ),
                ),
            }
        }
        r
    }

    /// A duration value.
    pub(crate) fn duration(&mut self, s: &Str) -> Option<Duration> {
        self.check(s, values::duration)
    }

    /// A list of proposals (default `defaults` when absent), checked with `parse`.
    fn proposals(
        &mut self,
        key: &str,
        list: Option<&Spanned<Vec<Str>>>,
        defaults: &[&str],
        parse: fn(&str) -> Result<ProposalSpec, ProposalError>,
    ) -> Option<Vec<ProposalSpec>> {
        let Some(list) = list else {
            let parsed: Result<Vec<_>, _> = defaults.iter().map(|d| parse(d)).collect();
            return Some(parsed.expect("the default proposals are valid (unit-tested)"));
        };
        if list.get_ref().is_empty() {
            self.error(
                list.span(),
                format!(
                    "{key} is empty — list at least one proposal, e.g. \"{}\"",
                    defaults[0]
                ),
            );
            return None;
        }
        let mut out = Some(Vec::new());
        for item in list.get_ref() {
            match parse(item.get_ref()) {
                Ok(spec) => {
                    if let Some(o) = out.as_mut() {
                        o.push(spec);
                    }
                }
                Err(e) => {
                    let at = self.keyword_offset(item, &e);
                    self.error(at..at, e.to_string());
                    out = None;
                }
            }
        }
        out
    }

    /// Where in the file the keyword a proposal error names starts (the string's start when the
    /// string holds escapes and positions cannot be mapped).
    fn keyword_offset(&self, item: &Str, e: &ProposalError) -> usize {
        let position = match e {
            ProposalError::EmptyToken { position, .. }
            | ProposalError::UnknownKeyword { position, .. }
            | ProposalError::AdditionalKeyExchange { position, .. }
            | ProposalError::NotAllowed { position, .. }
            | ProposalError::Duplicate { position, .. } => *position,
            _ => return item.span().start,
        };
        let value = item.get_ref();
        let src = self.diag.text().get(item.span()).unwrap_or("");
        let plain =
            src.len() == value.len() + 2 && src.get(1..src.len() - 1) == Some(value.as_str());
        if !plain {
            return item.span().start;
        }
        let trimmed_start = value.len() - value.trim_start().len();
        let mut offset = trimmed_start;
        for token in value.trim().split('-').take(position.saturating_sub(1)) {
            offset += token.len() + 1;
        }
        let token = value
            .trim()
            .split('-')
            .nth(position.saturating_sub(1))
            .unwrap_or("");
        offset += token.len() - token.trim_start().len();
        item.span().start + 1 + offset
    }

    /// `local_addrs` / `remote_addrs`: addresses, or `%any`.
    fn addrs(&mut self, key: &str, list: &[Str]) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for s in list {
            let text = s.get_ref().trim();
            if text == "%any" {
                continue;
            }
            match text.parse::<IpAddr>() {
                Ok(a) => out.push(a),
                Err(_) => self.error(
                    s.span(),
                    format!("{key}: \"{text}\" is not an IP address — write one address per entry, e.g. \"192.0.2.1\" or \"2001:db8::1\", or \"%any\""),
                ),
            }
        }
        out
    }

    /// Reports entries of `b` whose family `a` lacks (and the reverse): both sides of a
    /// connection or child must speak the same families.
    fn same_families<T>(
        &mut self,
        (a_key, a): (&str, &[(Range<usize>, T)]),
        (b_key, b): (&str, &[(Range<usize>, T)]),
        family: impl Fn(&T) -> Family,
    ) {
        let fams = |l: &[(Range<usize>, T)]| l.iter().map(|(_, t)| family(t)).collect::<Vec<_>>();
        let (fa, fb) = (fams(a), fams(b));
        if fa.is_empty() || fb.is_empty() {
            return;
        }
        let name = |f: Family| if f == Family::V4 { "IPv4" } else { "IPv6" };
        for ((span, t), (other_key, other)) in b
            .iter()
            .map(|x| (x, (a_key, &fa)))
            .chain(a.iter().map(|x| (x, (b_key, &fb))))
        {
            let f = family(t);
            if !other.contains(&f) {
                let this_key = if other_key == a_key { b_key } else { a_key };
                self.error(
                    span.clone(),
                    format!(
                        "{this_key} has an {} entry but {other_key} has no {} one — use the same address family on both sides",
                        name(f),
                        name(f)
                    ),
                );
                return;
            }
        }
    }

    fn connection(
        &mut self,
        conn: &Spanned<RawConnection>,
        secrets: &[auth::Secret],
        reqid: &mut u32,
    ) -> Option<ConnectionConfig> {
        let header = conn.span();
        let c = conn.get_ref();
        let name = match &c.name {
            Some(n) => n.get_ref().clone(),
            None => {
                self.absent(
                    header.clone(),
                    "connection has no name — add name = \"...\"",
                );
                "(unnamed)".to_owned()
            }
        };
        let local_addrs = self.addrs("local_addrs", &c.local_addrs);
        let remote_addrs = self.addrs("remote_addrs", &c.remote_addrs);
        let spans = |list: &[Str], addrs: &[IpAddr]| -> Vec<(Range<usize>, IpAddr)> {
            let mut it = addrs.iter();
            list.iter()
                .filter(|s| s.get_ref().trim() != "%any")
                .filter_map(|s| Some((s.span(), *it.next()?)))
                .collect()
        };
        let (la, ra) = (
            spans(&c.local_addrs, &local_addrs),
            spans(&c.remote_addrs, &remote_addrs),
        );
        self.same_families(("local_addrs", &la), ("remote_addrs", &ra), |a| {
            Family::of(*a)
        });
        let proposals = self.proposals(
            "proposals",
            c.proposals.as_ref(),
            DEFAULT_IKE_PROPOSALS,
            ProposalSpec::parse_ike,
        );
        let auth = self.connection_auth(
            &name,
            header.clone(),
            c,
            &local_addrs,
            &remote_addrs,
            secrets,
        );
        let dpd_delay = c.dpd_delay.as_ref().and_then(|d| self.duration(d));
        let dpd_action = c.dpd_action.as_ref().map_or(Some(DpdAction::Clear), |s| {
            self.choice(
                "dpd_action",
                s,
                &[
                    ("clear", DpdAction::Clear),
                    ("restart", DpdAction::Restart),
                    ("trap", DpdAction::Trap),
                ],
            )
        });
        let rekey_time = c
            .rekey_time
            .as_ref()
            .map_or(Some(DEFAULT_IKE_REKEY_TIME), |s| {
                self.nonzero_duration("rekey_time", s)
            });
        // strongSwan's `encap = yes`: force UDP encapsulation even without a NAT.
        let force_encap = c.encap.as_ref().is_some_and(|f| *f.get_ref());
        if let Some(f) = c.mobike.as_ref().filter(|f| *f.get_ref()) {
            self.error(
                f.span(),
                "mobike = true is not supported yet — remove it or set mobike = false".to_owned(),
            );
        }
        let mut child_names = HashMap::new();
        let mut children = Some(Vec::new());
        for child in &c.children {
            if let Some(n) = &child.get_ref().name {
                self.unique(&mut child_names, n, "child", "children of one connection");
            }
            *reqid += 1;
            let dyn_addrs = (local_addrs.first().copied(), remote_addrs.first().copied());
            match (
                self.child(child, dyn_addrs, ReqId(*reqid)),
                children.as_mut(),
            ) {
                (Some(ch), Some(list)) => list.push(ch),
                _ => children = None,
            }
        }
        let (local_id, remote_id, local_auth, remote_auth) = auth?;
        Some(ConnectionConfig {
            name,
            local_addrs,
            remote_addrs,
            proposals: proposals?,
            local_id,
            remote_id,
            local_auth,
            remote_auth,
            dpd_delay,
            dpd_action: dpd_action?,
            rekey_time: rekey_time?,
            force_encap,
            children: children?,
        })
    }

    fn nonzero_duration(&mut self, key: &str, s: &Str) -> Option<Duration> {
        let d = self.duration(s)?;
        if d.is_zero() {
            self.error(
                s.span(),
                format!("{key} must be longer than 0 — e.g. \"1h\""),
            );
            return None;
        }
        Some(d)
    }

    /// A traffic selector list (default `dynamic`).
    fn ts_list(
        &mut self,
        key: &str,
        list: Option<&Spanned<Vec<Str>>>,
        dynamic: Option<IpAddr>,
        header: Range<usize>,
    ) -> Option<Vec<(Range<usize>, TrafficSelector)>> {
        let Some(list) = list else {
            let Some(addr) = dynamic else {
                self.absent(header, format!("child has no {key} and the connection has no address to take it from — add {key} = [\"10.0.0.0/24\"]"));
                return None;
            };
            return Some(vec![(
                header,
                TrafficSelector::from_addrs(rampart_policy::AddrRange::host(addr)),
            )]);
        };
        if list.get_ref().is_empty() {
            self.error(
                list.span(),
                format!("{key} is empty — list at least one subnet"),
            );
            return None;
        }
        let mut out = Some(Vec::new());
        for s in list.get_ref() {
            match (
                self.check(s, |t| values::traffic_selector(t, dynamic)),
                out.as_mut(),
            ) {
                (Some(ts), Some(o)) => o.push((s.span(), ts)),
                _ => out = None,
            }
        }
        out
    }

    fn child(
        &mut self,
        child: &Spanned<RawChild>,
        (local, remote): (Option<IpAddr>, Option<IpAddr>),
        reqid: ReqId,
    ) -> Option<ChildSaConfig> {
        let header = child.span();
        let c = child.get_ref();
        if c.name.is_none() {
            self.absent(header.clone(), "child has no name — add name = \"...\"");
        }
        let local_ts = self.ts_list("local_ts", c.local_ts.as_ref(), local, header.clone());
        let remote_ts = self.ts_list("remote_ts", c.remote_ts.as_ref(), remote, header.clone());
        if let (Some(l), Some(r)) = (&local_ts, &remote_ts) {
            self.same_families(("local_ts", l), ("remote_ts", r), |t| t.addrs().family());
        }
        let esp_proposals = self.proposals(
            "esp_proposals",
            c.esp_proposals.as_ref(),
            DEFAULT_ESP_PROPOSALS,
            ProposalSpec::parse_esp,
        );
        let mode = c.mode.as_ref().map_or(Some(Mode::Tunnel), |s| {
            self.choice(
                "mode",
                s,
                &[("tunnel", Mode::Tunnel), ("transport", Mode::Transport)],
            )
        });
        if mode == Some(Mode::Transport) {
            self.transport_selectors("local_ts", local_ts.as_deref().unwrap_or_default());
            self.transport_selectors("remote_ts", remote_ts.as_deref().unwrap_or_default());
        }
        let start_action = c
            .start_action
            .as_ref()
            .map_or(Some(StartAction::None), |s| {
                self.choice(
                    "start_action",
                    s,
                    &[
                        ("start", StartAction::Start),
                        ("trap", StartAction::Trap),
                        ("none", StartAction::None),
                    ],
                )
            });
        let (rekey_time, life_time) = self.child_lifetimes(c);
        let life_bytes = c.life_bytes.as_ref().map(|b| self.count(b));
        let life_packets = c
            .life_packets
            .as_ref()
            .map(|p| self.positive("life_packets", p));
        let replay_window = c.replay_window.as_ref().map_or(Some(DEFAULT_REPLAY_WINDOW), |w| {
            let ok = u32::try_from(*w.get_ref()).ok().filter(|n| *n <= MAX_REPLAY_WINDOW);
            if ok.is_none() {
                self.error(
                    w.span(),
                    format!("replay_window = {} is out of range — use 0 (off) to {MAX_REPLAY_WINDOW} packets", w.get_ref()),
                );
            }
            ok
        });
        if let (Some(0), Some(esp), Some(w)) = (replay_window, &esp_proposals, &c.replay_window) {
            if esp.iter().any(|p| p.esn.contains(&EsnId::ESN)) {
                // RFC 4303 §2.2.1/Appendix A: the receiver infers the high 32 bits of an
                // extended sequence number from its anti-replay window; without one there is
                // nothing to infer from (Linux refuses the combination too).
                self.error(
                    w.span(),
                    "replay_window = 0 with an ESN proposal: extended sequence numbers need the anti-replay window — raise replay_window or remove \"esn\" from esp_proposals".to_owned(),
                );
                return None;
            }
        }
        let priority = c
            .priority
            .as_ref()
            .map_or(Some(DEFAULT_CHILD_PRIORITY), |p| self.priority(p));
        Some(ChildSaConfig {
            name: c.name.as_ref()?.get_ref().clone(),
            local_ts: local_ts?.into_iter().map(|(_, t)| t).collect(),
            remote_ts: remote_ts?.into_iter().map(|(_, t)| t).collect(),
            esp_proposals: esp_proposals?,
            mode: mode?,
            start_action: start_action?,
            rekey_time: rekey_time?,
            life_time: life_time?,
            life_bytes: life_bytes.map_or(Some(None), |b| b.map(Some))?,
            life_packets: life_packets.map_or(Some(None), |p| p.map(Some))?,
            replay_window: replay_window?,
            priority: priority?,
            reqid,
        })
    }

    /// Transport mode protects the traffic of the two hosts themselves (RFC 4301 §4.1): the
    /// outer header is the packet's own, so each selector must be one address (this host's in
    /// `local_ts`, the peer's in `remote_ts`; `dynamic` is). A subnet would send packets for
    /// other hosts straight to them, protected for a peer they are not.
    fn transport_selectors(&mut self, key: &str, list: &[(Range<usize>, TrafficSelector)]) {
        let whose = if key == "local_ts" {
            "this host's"
        } else {
            "the peer's"
        };
        for (span, ts) in list {
            if ts.addrs().start() != ts.addrs().end() {
                self.error(
                    span.clone(),
                    format!("{key} {ts} is more than one address, but transport mode protects only the two hosts' own traffic — list {whose} address, or use mode = \"tunnel\""),
                );
            }
        }
    }

    /// `rekey_time` and `life_time` of a child; the hard lifetime must come after the rekey.
    fn child_lifetimes(&mut self, c: &RawChild) -> (Option<Duration>, Option<Duration>) {
        let rekey = c
            .rekey_time
            .as_ref()
            .map_or(Some(DEFAULT_CHILD_REKEY_TIME), |s| {
                self.nonzero_duration("rekey_time", s)
            });
        let life = match (&c.life_time, rekey) {
            (Some(s), _) => self.nonzero_duration("life_time", s),
            (None, r) => r.map(|r| r + r / 10),
        };
        if let (Some(s), Some(r), Some(l)) = (&c.life_time, rekey, life) {
            if l <= r {
                self.error(
                    s.span(),
                    format!("life_time ({l:?}) must be longer than rekey_time ({r:?}) so that the SA is rekeyed before it expires — raise life_time"),
                );
                return (rekey, None);
            }
        }
        (rekey, life)
    }

    fn count(&mut self, b: &Spanned<RawCount>) -> Option<u64> {
        let r = match b.get_ref() {
            RawCount::Int(n) => u64::try_from(*n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("life_bytes = {n} must be positive — e.g. \"1GB\"")),
            RawCount::Text(t) => values::byte_size(t).and_then(|n| {
                if n == 0 {
                    Err("life_bytes must be positive — e.g. \"1GB\"".to_owned())
                } else {
                    Ok(n)
                }
            }),
        };
        r.map_err(|e| self.error(b.span(), e)).ok()
    }

    fn positive(&mut self, key: &str, p: &Spanned<i64>) -> Option<u64> {
        let ok = u64::try_from(*p.get_ref()).ok().filter(|n| *n > 0);
        if ok.is_none() {
            self.error(
                p.span(),
                format!("{key} = {} must be positive", p.get_ref()),
            );
        }
        ok
    }

    pub(crate) fn priority(&mut self, p: &Spanned<i64>) -> Option<u32> {
        let ok = u32::try_from(*p.get_ref()).ok();
        if ok.is_none() {
            self.error(
                p.span(),
                format!(
                    "priority = {} is out of range — use 0 to {} (lower matches first)",
                    p.get_ref(),
                    u32::MAX
                ),
            );
        }
        ok
    }
}
