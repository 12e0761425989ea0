//! `rampart sa export --wireshark DIR`: asks the daemon for every SA's keys (the `export_keys`
//! control request, refused unless `[daemon] allow_key_export = true`) and writes them as
//! Wireshark's decryption tables, so that Wireshark or tshark can decrypt a capture:
//!
//! - `DIR/esp_sa`: the ESP SA table (Wireshark's "ESP SAs" preference, `packet-ipsec.c`), one
//!   line per SA and direction: protocol, source, destination, SPI, encryption algorithm, key
//!   (with the salt for AES-GCM), authentication algorithm, key.
//! - `DIR/ikev2_decryption_table`: the IKEv2 decryption table (`packet-isakmp.c`): SPI_i, SPI_r,
//!   SK_ei, SK_er, encryption algorithm, SK_ai, SK_ar, integrity algorithm.
//!
//! Both are Wireshark "UAT" files: one record per line, fields separated by commas, strings and
//! enumerations in double quotes, byte fields as bare hex. Algorithms are named by the exact
//! strings Wireshark's tables use. The files hold live keys: they are created with mode 0600.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use rampart_daemon::config::DEFAULT_CONTROL_SOCKET;
use serde_json::{Value, json};

use crate::ctl_cmd;

/// `rampart sa export`.
#[derive(clap::Args)]
pub(crate) struct ExportArgs {
    /// Write Wireshark's decryption tables `esp_sa` and `ikev2_decryption_table` into this
    /// directory (created if missing). Copy them into Wireshark's configuration directory
    /// (`~/.config/wireshark/`), or point tshark's at it.
    #[arg(long, value_name = "DIR")]
    wireshark: PathBuf,
    /// The daemon's control socket.
    #[arg(long, default_value = DEFAULT_CONTROL_SOCKET)]
    socket: PathBuf,
}

/// The two tables' text, and what could not be written in Wireshark's terms.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tables {
    /// `esp_sa`.
    pub(crate) esp_sa: String,
    /// `ikev2_decryption_table`.
    pub(crate) ikev2: String,
    /// ESP and IKE SA lines written.
    pub(crate) esp_count: usize,
    pub(crate) ike_count: usize,
    /// SAs left out (an algorithm Wireshark's table has no entry for), with why.
    pub(crate) skipped: Vec<String>,
}

const HEADER: &str = "# Written by `rampart sa export --wireshark`. These are the live keys of \
                      running SAs: keep this file secret and delete it after use.\n";

/// Runs `rampart sa export`: exit 0 when the files were written, 1 when the daemon refused
/// (key export disabled), 2 when it could not be reached or the files not written.
pub(crate) fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let answer = ctl_cmd::call(&args.socket, &json!({ "cmd": "export_keys" }))?;
    if answer.get("ok").and_then(Value::as_bool) != Some(true) {
        let e = answer["error"].as_str().unwrap_or("the daemon refused");
        eprintln!("rampart: {e}");
        return Ok(ExitCode::FAILURE);
    }
    let tables = tables(&answer);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&args.wireshark)
        .with_context(|| format!("creating {}", args.wireshark.display()))?;
    let esp = args.wireshark.join("esp_sa");
    let ike = args.wireshark.join("ikev2_decryption_table");
    write_secret(&esp, &tables.esp_sa)?;
    write_secret(&ike, &tables.ikev2)?;
    for s in &tables.skipped {
        eprintln!("rampart: left out {s}");
    }
    println!(
        "wrote {} ESP SAs to {} and {} IKE SAs to {}",
        tables.esp_count,
        esp.display(),
        tables.ike_count,
        ike.display()
    );
    println!(
        "Wireshark reads them from its configuration directory; to decrypt a capture:\n  \
         mkdir -p ~/.config/wireshark && cp {dir}/esp_sa {dir}/ikev2_decryption_table \
         ~/.config/wireshark/\n  \
         tshark -o esp.enable_encryption_decode:TRUE -r CAPTURE.pcap",
        dir = args.wireshark.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path` with mode 0600, replacing it.
fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Both tables from an `export_keys` answer (docs/control-protocol.md).
pub(crate) fn tables(answer: &Value) -> Tables {
    let mut t = Tables {
        esp_sa: HEADER.to_owned(),
        ikev2: HEADER.to_owned(),
        ..Tables::default()
    };
    let list = |k: &str| answer[k].as_array().cloned().unwrap_or_default();
    for sa in list("child_sas") {
        match esp_sa_line(&sa) {
            Ok(line) => {
                t.esp_sa.push_str(&line);
                t.esp_sa.push('\n');
                t.esp_count += 1;
            }
            Err(why) => t
                .skipped
                .push(format!("ESP SA {}: {why}", str_of(&sa, "spi"))),
        }
    }
    for sa in list("ike_sas") {
        match ikev2_line(&sa) {
            Ok(line) => {
                t.ikev2.push_str(&line);
                t.ikev2.push('\n');
                t.ike_count += 1;
            }
            Err(why) => t.skipped.push(format!(
                "IKE SA {}_i {}_r: {why}",
                str_of(&sa, "spi_i"),
                str_of(&sa, "spi_r")
            )),
        }
    }
    t
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

/// A field that must be a hex string (possibly empty).
fn hex_field<'a>(v: &'a Value, k: &str) -> Result<&'a str, String> {
    let s = v[k]
        .as_str()
        .ok_or_else(|| format!("no \"{k}\" in the answer"))?;
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("\"{k}\" is not hex"));
    }
    Ok(s)
}

/// `(IANA transform ID, key bits)` of an `{"id":N,"key_bits":K}` object; `None` for `null`.
fn alg(v: &Value) -> Option<(u64, Option<u64>)> {
    Some((v["id"].as_u64()?, v["key_bits"].as_u64()))
}

/// Wireshark's name (`esp_encryption_type_vals`) for an ESP encryption transform
/// (RFC 7296 §3.3.2 Transform Type 1 IDs).
pub(crate) fn esp_encr_name(id: u64) -> Option<&'static str> {
    Some(match id {
        11 => "NULL",
        12 => "AES-CBC [RFC3602]",
        18 => "AES-GCM with 8 octet ICV [RFC4106]",
        19 => "AES-GCM with 12 octet ICV [RFC4106]",
        20 => "AES-GCM with 16 octet ICV [RFC4106]",
        28 => "ChaCha20 with Poly1305 [RFC7634]",
        _ => return None,
    })
}

/// Wireshark's name (`esp_authentication_type_vals`) for an ESP integrity transform (Transform
/// Type 3 IDs); `None` (an AEAD) is `NULL`.
pub(crate) fn esp_integ_name(id: Option<u64>) -> Option<&'static str> {
    Some(match id {
        None => "NULL",
        Some(2) => "HMAC-SHA-1-96 [RFC2404]",
        Some(12) => "HMAC-SHA-256-128 [RFC4868]",
        Some(13) => "HMAC-SHA-384-192 [RFC4868]",
        Some(14) => "HMAC-SHA-512-256 [RFC4868]",
        Some(_) => return None,
    })
}

/// Wireshark's name (`vs_ikev2_encr_algs`) for an IKE encryption transform with its key size.
pub(crate) fn ike_encr_name(id: u64, key_bits: Option<u64>) -> Option<&'static str> {
    Some(match (id, key_bits) {
        (11, _) => "NULL [RFC2410]",
        (12, Some(128)) => "AES-CBC-128 [RFC3602]",
        (12, Some(192)) => "AES-CBC-192 [RFC3602]",
        (12, Some(256)) => "AES-CBC-256 [RFC3602]",
        (18, Some(128)) => "AES-GCM-128 with 8 octet ICV [RFC5282]",
        (18, Some(192)) => "AES-GCM-192 with 8 octet ICV [RFC5282]",
        (18, Some(256)) => "AES-GCM-256 with 8 octet ICV [RFC5282]",
        (19, Some(128)) => "AES-GCM-128 with 12 octet ICV [RFC5282]",
        (19, Some(192)) => "AES-GCM-192 with 12 octet ICV [RFC5282]",
        (19, Some(256)) => "AES-GCM-256 with 12 octet ICV [RFC5282]",
        (20, Some(128)) => "AES-GCM-128 with 16 octet ICV [RFC5282]",
        (20, Some(192)) => "AES-GCM-192 with 16 octet ICV [RFC5282]",
        (20, Some(256)) => "AES-GCM-256 with 16 octet ICV [RFC5282]",
        _ => return None,
    })
}

/// Wireshark's name (`vs_ikev2_auth_algs`) for an IKE integrity transform; `None` (an AEAD)
/// is `NONE`.
pub(crate) fn ike_integ_name(id: Option<u64>) -> Option<&'static str> {
    Some(match id {
        None => "NONE [RFC4306]",
        Some(2) => "HMAC_SHA1_96 [RFC2404]",
        Some(12) => "HMAC_SHA2_256_128 [RFC4868]",
        Some(13) => "HMAC_SHA2_384_192 [RFC4868]",
        Some(14) => "HMAC_SHA2_512_256 [RFC4868]",
        Some(_) => return None,
    })
}

/// One `esp_sa` record:
/// `"IPv4","SRC","DST","0xSPI","ENCRYPTION","0xKEY","AUTHENTICATION","0xKEY"`.
pub(crate) fn esp_sa_line(sa: &Value) -> Result<String, String> {
    let addr = |k: &str| {
        str_of(sa, k)
            .parse::<std::net::IpAddr>()
            .map_err(|_| format!("bad \"{k}\" address"))
    };
    let (src, dst) = (addr("src")?, addr("dst")?);
    let protocol = if src.is_ipv4() { "IPv4" } else { "IPv6" };
    let spi = hex_field(sa, "spi")?;
    let (encr_id, _) = alg(&sa["encr"]).ok_or("no encryption algorithm")?;
    let encr = esp_encr_name(encr_id)
        .ok_or_else(|| format!("Wireshark has no ESP encryption algorithm {encr_id}"))?;
    let integ_id = alg(&sa["integ"]).map(|(id, _)| id);
    let integ = esp_integ_name(integ_id)
        .ok_or_else(|| format!("Wireshark has no ESP integrity algorithm {integ_id:?}"))?;
    let key = |k: &str| -> Result<String, String> {
        let h = hex_field(sa, k)?;
        Ok(if h.is_empty() {
            String::new()
        } else {
            format!("0x{h}")
        })
    };
    Ok(format!(
        "\"{protocol}\",\"{src}\",\"{dst}\",\"0x{spi}\",\"{encr}\",\"{}\",\"{integ}\",\"{}\"",
        key("encr_key")?,
        key("integ_key")?
    ))
}

/// One `ikev2_decryption_table` record:
/// `SPI_I,SPI_R,SK_EI,SK_ER,"ENCRYPTION",SK_AI,SK_AR,"INTEGRITY"`.
pub(crate) fn ikev2_line(sa: &Value) -> Result<String, String> {
    let (encr_id, bits) = alg(&sa["encr"]).ok_or("no encryption algorithm")?;
    let encr = ike_encr_name(encr_id, bits).ok_or_else(|| {
        format!("Wireshark's IKEv2 table has no encryption algorithm {encr_id} ({bits:?} bits)")
    })?;
    let integ_id = alg(&sa["integ"]).map(|(id, _)| id);
    let integ = ike_integ_name(integ_id)
        .ok_or_else(|| format!("Wireshark has no IKEv2 integrity algorithm {integ_id:?}"))?;
    Ok(format!(
        "{},{},{},{},\"{encr}\",{},{},\"{integ}\"",
        hex_field(sa, "spi_i")?,
        hex_field(sa, "spi_r")?,
        hex_field(sa, "sk_ei")?,
        hex_field(sa, "sk_er")?,
        hex_field(sa, "sk_ai")?,
        hex_field(sa, "sk_ar")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> Value {
        json!({
            "ok": true,
            "ike_sas": [{
                "name": "site", "spi_i": "0123456789abcdef", "spi_r": "fedcba9876543210",
                "encr": { "id": 20, "key_bits": 256 }, "integ": null, "prf": { "id": 5 },
                "sk_d": "00", "sk_ai": "", "sk_ar": "", "sk_ei": "a1a2a3a4", "sk_er": "b1b2b3b4",
                "sk_pi": "00", "sk_pr": "00"
            }, {
                "name": "cbc", "spi_i": "1111111111111111", "spi_r": "2222222222222222",
                "encr": { "id": 12, "key_bits": 128 }, "integ": { "id": 12 },
                "prf": { "id": 5 }, "sk_d": "00", "sk_ai": "c1c2", "sk_ar": "d1d2",
                "sk_ei": "e1e2", "sk_er": "f1f2", "sk_pi": "00", "sk_pr": "00"
            }, {
                "name": "chacha", "spi_i": "3333333333333333", "spi_r": "4444444444444444",
                "encr": { "id": 28, "key_bits": null }, "integ": null, "prf": { "id": 5 },
                "sk_d": "00", "sk_ai": "", "sk_ar": "", "sk_ei": "00", "sk_er": "00",
                "sk_pi": "00", "sk_pr": "00"
            }],
            "child_sas": [{
                "name": "net", "direction": "in", "spi": "c0ffee01", "src": "192.0.2.2",
                "dst": "192.0.2.1", "udp_encap": null, "encr": { "id": 20, "key_bits": 128 },
                "encr_key": "00112233445566778899aabbccddeeff01020304", "integ": null,
                "integ_key": ""
            }, {
                "name": "v6", "direction": "out", "spi": "0000abcd", "src": "2001:db8::1",
                "dst": "2001:db8::2", "udp_encap": null, "encr": { "id": 12, "key_bits": 256 },
                "encr_key": "aa", "integ": { "id": 14 }, "integ_key": "bb"
            }]
        })
    }

    /// The exact lines Wireshark's UAT loader reads (field order and algorithm strings of
    /// packet-ipsec.c's `esp_uat_flds` and packet-isakmp.c's IKEv2 table).
    #[test]
    fn tables_have_wiresharks_format() {
        let t = tables(&answer());
        let esp: Vec<&str> = t.esp_sa.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            esp,
            [
                "\"IPv4\",\"192.0.2.2\",\"192.0.2.1\",\"0xc0ffee01\",\
                 \"AES-GCM with 16 octet ICV [RFC4106]\",\
                 \"0x00112233445566778899aabbccddeeff01020304\",\"NULL\",\"\"",
                "\"IPv6\",\"2001:db8::1\",\"2001:db8::2\",\"0x0000abcd\",\"AES-CBC [RFC3602]\",\
                 \"0xaa\",\"HMAC-SHA-512-256 [RFC4868]\",\"0xbb\"",
            ]
        );
        let ike: Vec<&str> = t.ikev2.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            ike,
            [
                "0123456789abcdef,fedcba9876543210,a1a2a3a4,b1b2b3b4,\
                 \"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"",
                "1111111111111111,2222222222222222,e1e2,f1f2,\"AES-CBC-128 [RFC3602]\",c1c2,d1d2,\
                 \"HMAC_SHA2_256_128 [RFC4868]\"",
            ]
        );
        assert_eq!((t.esp_count, t.ike_count), (2, 2));
        // Wireshark's IKEv2 table has no ChaCha20-Poly1305: that SA is left out, and said so.
        assert_eq!(t.skipped.len(), 1);
        assert!(t.skipped[0].contains("3333333333333333"), "{:?}", t.skipped);
        assert!(t.esp_sa.starts_with('#') && t.ikev2.starts_with('#'));
    }

    #[test]
    fn bad_fields_are_reported_not_written() {
        let mut a = answer();
        a["child_sas"][0]["encr_key"] = json!("xyz");
        a["child_sas"][1]["src"] = json!("not an address");
        a["ike_sas"][0]["spi_i"] = json!(7);
        let t = tables(&a);
        assert_eq!((t.esp_count, t.ike_count), (0, 1));
        assert_eq!(t.skipped.len(), 4, "{:?}", t.skipped);
        assert!(!t.esp_sa.contains("xyz"));
    }

    #[test]
    fn every_algorithm_rampart_negotiates_has_a_name() {
        for id in [11, 12, 18, 19, 20, 28] {
            assert!(esp_encr_name(id).is_some(), "ESP encr {id}");
        }
        for id in [None, Some(2), Some(12), Some(13), Some(14)] {
            assert!(esp_integ_name(id).is_some() && ike_integ_name(id).is_some());
        }
        for bits in [128, 192, 256] {
            for id in [12, 18, 19, 20] {
                assert!(
                    ike_encr_name(id, Some(bits)).is_some(),
                    "IKE encr {id}/{bits}"
                );
            }
        }
        assert_eq!(esp_encr_name(3), None);
        assert_eq!(ike_encr_name(12, None), None);
    }
}
