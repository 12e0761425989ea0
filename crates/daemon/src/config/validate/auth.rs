//! Identities, `[[secrets]]` and the `local`/`remote` authentication tables: PSK lookup by the
//! connection's identity pair, and the key and certificate files of public-key authentication
//! (paths relative to the configuration file's directory), loaded and cross-checked here so that
//! a wrong file is a configuration error, not a failed IKE_AUTH later.

use core::ops::Range;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rampart_crypto::SecretBytes;
use rampart_crypto::cert::{Certificate, SubjectAltName, TrustAnchors};
use rampart_crypto::sig::PrivateKey;
use rampart_ike::CertSigner;
use rampart_policy::pad::{DistinguishedName, Identity};
use toml::Spanned;
use zeroize::Zeroizing;

use super::Validator;
use crate::config::raw::{RawConnection, RawLocal, RawRemote, RawSecret, Str};
use crate::config::values::{self, IdSpec};
use crate::config::{LocalAuthConfig, PskRef, RemoteAuthConfig};

/// A valid `[[secrets]]` entry.
pub(crate) struct Secret {
    name: String,
    ids: Vec<IdSpec>,
    key: SecretBytes,
}

/// What [`Validator::connection_auth`] yields: local id, remote id and both auth configs.
pub(crate) type Auth = (Identity, Identity, LocalAuthConfig, RemoteAuthConfig);

const AUTH_METHODS: &[(&str, Method)] = &[("psk", Method::Psk), ("pubkey", Method::Pubkey)];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Psk,
    Pubkey,
}

/// An identity for messages: `gw.example`, `192.0.2.1`, `dn:C=US, CN=x`.
pub(crate) fn show(id: &Identity) -> String {
    match id {
        Identity::Fqdn(n) => n.clone(),
        Identity::Rfc822(m) => m.clone(),
        other => other.to_string(),
    }
}

impl Validator<'_, '_> {
    pub(crate) fn secrets(&mut self, raw: &[Spanned<RawSecret>]) -> Vec<Secret> {
        let mut out = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let r = s.get_ref();
            let ids = match &r.ids {
                Some(ids) if ids.get_ref().is_empty() => {
                    self.error(ids.span(), "ids is empty — list the identities this key is for, e.g. [\"gw-a.example\", \"gw-b.example\"]");
                    None
                }
                Some(ids) => ids
                    .get_ref()
                    .iter()
                    .map(|id| self.check(id, values::identity))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .collect::<Option<Vec<_>>>(),
                None => {
                    self.absent(
                        s.span(),
                        "secret has no ids — add ids = [\"local-id\", \"remote-id\"]",
                    );
                    None
                }
            };
            let key = match &r.psk {
                Some(p) => match psk_bytes(&p.get_ref().0) {
                    Ok(k) => Some(k),
                    Err(e) => {
                        self.error(p.span(), e);
                        None
                    }
                },
                None => {
                    self.absent(s.span(), "secret has no psk — add psk = \"...\"");
                    None
                }
            };
            if let (Some(ids), Some(key)) = (ids, key) {
                out.push(Secret {
                    name: format!("secrets[{i}]"),
                    ids,
                    key,
                });
            }
        }
        out
    }

    /// Identities and authentication of one connection.
    pub(crate) fn connection_auth(
        &mut self,
        name: &str,
        header: Range<usize>,
        c: &RawConnection,
        local_addrs: &[IpAddr],
        remote_addrs: &[IpAddr],
        secrets: &[Secret],
    ) -> Option<Auth> {
        let (Some(local), Some(remote)) = (&c.local, &c.remote) else {
            for (side, table, example) in [
                (
                    "local",
                    c.local.is_none(),
                    "local = { auth = \"psk\", id = \"gw-a.example\" }",
                ),
                (
                    "remote",
                    c.remote.is_none(),
                    "remote = { auth = \"psk\", id = \"gw-b.example\" }",
                ),
            ] {
                if table {
                    self.absent(
                        header.clone(),
                        format!("connection \"{name}\" has no {side} table — add e.g. {example}"),
                    );
                }
            }
            return None;
        };
        let local_method = self.method("local", local.span(), local.get_ref().auth.as_ref());
        let remote_method = self.method("remote", remote.span(), remote.get_ref().auth.as_ref());
        let (local_auth, cert_subject) = match local_method? {
            Method::Psk => {
                self.forbid_with_psk(
                    "local",
                    [
                        ("cert", &local.get_ref().cert),
                        ("key", &local.get_ref().key),
                    ],
                );
                (None, None)
            }
            Method::Pubkey => match self.local_pubkey(local) {
                Some((auth, subject)) => (Some(auth), subject),
                None => return None,
            },
        };
        let local_id = self.own_id(
            "local",
            local.span(),
            local.get_ref().id.as_ref(),
            local_addrs,
            cert_subject,
        )?;
        if let Some(LocalAuthConfig::Pubkey { signer, cert, .. }) = &local_auth {
            let id_span = local
                .get_ref()
                .id
                .as_ref()
                .map_or(local.span(), Spanned::span);
            self.check_binding(&local_id, signer.end_entity(), cert, id_span);
        }
        let remote_id = self.own_id(
            "remote",
            remote.span(),
            remote.get_ref().id.as_ref(),
            remote_addrs,
            None,
        )?;
        let remote_auth = match remote_method? {
            Method::Psk => {
                if remote.get_ref().cacerts.is_some() {
                    self.error(
                        remote.span(),
                        "cacerts is only used with auth = \"pubkey\" — remove it",
                    );
                }
                None
            }
            Method::Pubkey => Some(self.remote_pubkey(remote)?),
        };
        let needs_psk = local_auth.is_none() || remote_auth.is_none();
        let psk = if needs_psk {
            Some(self.find_psk(name, header, &local_id, &remote_id, secrets)?)
        } else {
            None
        };
        let local_auth = local_auth.or_else(|| psk.clone().map(LocalAuthConfig::Psk))?;
        let remote_auth = remote_auth.or_else(|| psk.map(RemoteAuthConfig::Psk))?;
        Some((local_id, remote_id, local_auth, remote_auth))
    }

    fn method(&mut self, side: &str, table: Range<usize>, auth: Option<&Str>) -> Option<Method> {
        match auth {
            Some(a) => self.choice("auth", a, AUTH_METHODS),
            None => {
                self.absent(
                    table,
                    format!("{side} has no auth — add auth = \"psk\" or auth = \"pubkey\""),
                );
                None
            }
        }
    }

    fn forbid_with_psk(&mut self, side: &str, keys: [(&str, &Option<Str>); 2]) {
        for (key, value) in keys {
            if let Some(v) = value {
                self.error(
                    v.span(),
                    format!("{side}.{key} is only used with auth = \"pubkey\" — remove it or switch to pubkey"),
                );
            }
        }
    }

    /// `id` of one side, or its default: the certificate's subject, else the first address.
    fn own_id(
        &mut self,
        side: &str,
        table: Range<usize>,
        id: Option<&Str>,
        addrs: &[IpAddr],
        cert_subject: Option<Identity>,
    ) -> Option<Identity> {
        let Some(id) = id else {
            if let Some(subject) = cert_subject {
                return Some(subject);
            }
            let Some(addr) = addrs.first() else {
                self.absent(table, format!("{side} has no id and the connection no {side} address to use instead — add id = \"...\""));
                return None;
            };
            return Some(Identity::Addr(*addr));
        };
        match self.check(id, values::identity)? {
            IdSpec::Id(i) => Some(i),
            IdSpec::Any => {
                self.error(
                    id.span(),
                    format!("{side}.id = \"%any\" is not supported: {} — name the identity (an FQDN, address, e-mail address or DN)",
                        if side == "local" { "we must assert an identity" } else { "the IKE engine matches the peer's identity exactly" }),
                );
                None
            }
        }
    }

    fn find_psk(
        &mut self,
        name: &str,
        header: Range<usize>,
        local_id: &Identity,
        remote_id: &Identity,
        secrets: &[Secret],
    ) -> Option<PskRef> {
        let score = |s: &Secret| {
            let exact = |id: &Identity| s.ids.iter().any(|i| *i == IdSpec::Id(id.clone()));
            let named = |id: &Identity| s.ids.iter().any(|i| i.matches(id));
            (named(local_id) && named(remote_id))
                .then(|| usize::from(exact(local_id)) + usize::from(exact(remote_id)))
        };
        let best = secrets
            .iter()
            .filter_map(|s| score(s).map(|n| (n, s)))
            .fold(None::<(usize, &Secret)>, |best, (n, s)| match best {
                Some((b, _)) if b >= n => best,
                _ => Some((n, s)),
            });
        match best {
            Some((_, s)) => Some(PskRef {
                secret: s.name.clone(),
                key: s.key.clone(),
            }),
            None => {
                self.absent(
                    header,
                    format!(
                        "connection \"{name}\" uses auth = \"psk\" but no [[secrets]] entry has ids {} and {} — add one",
                        show(local_id),
                        show(remote_id)
                    ),
                );
                None
            }
        }
    }

    /// Resolves `path` against the config file's directory.
    fn resolve(&self, path: &str) -> PathBuf {
        self.base_dir.join(path)
    }

    /// Reads a file named by `s`, recording a readable error.
    fn read(&mut self, what: &str, s: &Str) -> Option<Zeroizing<String>> {
        let path = self.resolve(s.get_ref());
        match std::fs::read_to_string(&path) {
            Ok(t) => Some(Zeroizing::new(t)),
            Err(e) => {
                self.error(
                    s.span(),
                    format!(
                        "cannot read {what} file \"{}\" ({}: {e}) — check the path; relative paths start at the config file's directory",
                        s.get_ref(),
                        path.display()
                    ),
                );
                None
            }
        }
    }

    fn certificates(&mut self, what: &str, s: &Str) -> Option<Vec<Certificate>> {
        let text = self.read(what, s)?;
        match Certificate::from_pem(&text) {
            Ok(c) if !c.is_empty() => Some(c),
            Ok(_) => {
                self.error(s.span(), format!("no certificate in \"{}\" — give a PEM file with -----BEGIN CERTIFICATE-----", s.get_ref()));
                None
            }
            Err(e) => {
                self.error(
                    s.span(),
                    format!(
                        "bad {what} \"{}\": {e} — give a PEM X.509 certificate",
                        s.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// The signer of `local`, and the certificate's subject as a default identity.
    fn local_pubkey(
        &mut self,
        local: &Spanned<RawLocal>,
    ) -> Option<(LocalAuthConfig, Option<Identity>)> {
        let l = local.get_ref();
        for (key, v) in [("cert", &l.cert), ("key", &l.key)] {
            if v.is_none() {
                self.absent(
                    local.span(),
                    format!("auth = \"pubkey\" needs {key} = \"path.pem\" in local"),
                );
            }
        }
        let (Some(cert), Some(key)) = (&l.cert, &l.key) else {
            return None;
        };
        let chain = self.certificates("certificate", cert);
        let key_text = self.read("private key", key);
        let private = key_text.and_then(|t| match PrivateKey::from_pkcs8_pem(&t) {
            Ok(k) => Some(k),
            Err(e) => {
                self.error(key.span(), format!("bad private key \"{}\": {e} — give an unencrypted PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----)", key.get_ref()));
                None
            }
        });
        let (chain, private) = (chain?, private?);
        let subject = chain[0]
            .subject()
            .parse::<DistinguishedName>()
            .ok()
            .map(Identity::Dn);
        match CertSigner::new(private, chain) {
            Ok(signer) => Some((
                LocalAuthConfig::Pubkey {
                    cert: self.resolve(cert.get_ref()),
                    key: self.resolve(key.get_ref()),
                    signer: Arc::new(signer),
                },
                subject,
            )),
            Err(e) => {
                self.error(
                    key.span(),
                    format!("{e} — use the key that belongs to {}", cert.get_ref()),
                );
                None
            }
        }
    }

    /// Our identity must be one the certificate vouches for, or the peer will refuse it (RFC
    /// 4945 §3.1).
    fn check_binding(
        &mut self,
        id: &Identity,
        cert: &Certificate,
        path: &std::path::Path,
        at: Range<usize>,
    ) {
        let sans = cert.subject_alt_names();
        let bound = match id {
            Identity::Dn(dn) => cert
                .subject()
                .parse::<DistinguishedName>()
                .is_ok_and(|s| s == *dn),
            Identity::Addr(a) => sans
                .iter()
                .any(|n| matches!(n, SubjectAltName::Ip(x) if x == a)),
            Identity::Fqdn(f) => sans
                .iter()
                .any(|n| matches!(n, SubjectAltName::Dns(d) if d.eq_ignore_ascii_case(f))),
            Identity::Rfc822(m) => sans
                .iter()
                .any(|n| matches!(n, SubjectAltName::Email(e) if e.eq_ignore_ascii_case(m))),
            Identity::KeyId(_) => false,
        };
        if !bound {
            let names: Vec<String> = sans
                .iter()
                .filter_map(|n| match n {
                    SubjectAltName::Dns(d) => Some(d.clone()),
                    SubjectAltName::Ip(a) => Some(a.to_string()),
                    SubjectAltName::Email(m) => Some(m.clone()),
                    _ => None,
                })
                .chain(core::iter::once(cert.subject().to_owned()))
                .collect();
            self.error(
                at,
                format!(
                    "local id {} is not bound by certificate {} — use one it names: {}",
                    show(id),
                    path.display(),
                    names.join("; ")
                ),
            );
        }
    }

    fn remote_pubkey(&mut self, remote: &Spanned<RawRemote>) -> Option<RemoteAuthConfig> {
        let Some(list) = remote.get_ref().cacerts.as_ref().filter(|l| !l.is_empty()) else {
            self.absent(remote.span(), "auth = \"pubkey\" needs cacerts = [\"ca.pem\"] in remote: the CAs the peer's certificate must chain to");
            return None;
        };
        let mut anchors = Some(Vec::new());
        for ca in list {
            match (self.certificates("CA certificate", ca), anchors.as_mut()) {
                (Some(c), Some(a)) => a.extend(c),
                _ => anchors = None,
            }
        }
        Some(RemoteAuthConfig::Pubkey {
            cacerts: list.iter().map(|c| self.resolve(c.get_ref())).collect(),
            anchors: TrustAnchors::new(anchors?),
        })
    }
}

/// The key bytes of a `psk`: the text as UTF-8, or hex after `0x`.
fn psk_bytes(text: &str) -> Result<SecretBytes, String> {
    let bytes = match text.strip_prefix("0x") {
        Some(h) => Zeroizing::new(hex::decode(h).map_err(|_| {
            "psk starting with 0x must be hex digits — e.g. \"0x0a1b2c...\"".to_owned()
        })?),
        None => Zeroizing::new(text.as_bytes().to_vec()),
    };
    if bytes.is_empty() {
        return Err("psk is empty — give a long random key".into());
    }
    Ok(SecretBytes::from_slice(&bytes))
}
