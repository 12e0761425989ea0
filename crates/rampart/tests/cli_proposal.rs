//! `rampart proposal` end to end: the binary's output and exit codes, as a script would see them.

use std::process::Command;

fn rampart(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .expect("the rampart binary built by cargo runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ike_proposal_lists_iana_transforms() {
    let (code, out, _) = rampart(&["proposal", "aes128gcm16-prfsha256-x25519"]);
    assert_eq!(code, 0);
    assert!(out.contains("ENCR_AES_GCM_16"), "{out}");
    assert!(out.contains("PRF_HMAC_SHA2_256"), "{out}");
    assert!(out.contains("Curve25519"), "{out}");
    assert!(out.contains(" 31 "), "group number shown: {out}");
}

#[test]
fn typo_fails_with_suggestion_and_exit_1() {
    let (code, _, err) = rampart(&["proposal", "aes128gmc16-prfsha256-x25519"]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean aes128gcm16"), "{err}");
}

#[test]
fn esp_json_is_machine_readable() {
    let (code, out, _) = rampart(&["proposal", "--kind", "esp", "--json", "aes256gcm16-esn"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let t = &v[0]["transforms"];
    assert_eq!(t[0]["iana_name"], "ENCR_AES_GCM_16");
    assert_eq!(t[0]["key_bits"], 256);
    assert_eq!(t[1]["iana_name"], "ESN");
}

#[test]
fn bad_usage_exits_2() {
    let (code, _, _) = rampart(&["proposal"]);
    assert_eq!(code, 2, "clap usage errors exit 2");
}
