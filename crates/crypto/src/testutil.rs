//! Test helpers shared by the known-answer tests: the `testdata/` record parser, a fixed-output
//! random source, and the python oracle runner (RAMPART_REQUIRE_ORACLES rule).

use std::collections::HashMap;

use crate::{CryptoError, SecureRandom};

/// Parses a `testdata/` file into records of `name -> value`.
pub(crate) fn records(text: &str) -> Vec<HashMap<&str, &str>> {
    let mut out = Vec::new();
    let mut cur = HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .expect("testdata line is `name = value`");
        cur.insert(k.trim(), v.trim());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Decodes a hex field (empty string = empty bytes).
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("testdata hex is valid")
}

/// A random source that hands out the given bytes (e.g. an RFC's private key), then fails.
pub(crate) struct FixedRandom(pub(crate) std::sync::Mutex<Vec<u8>>);

impl FixedRandom {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(std::sync::Mutex::new(bytes))
    }
}

impl SecureRandom for FixedRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        let mut bytes = self.0.lock().expect("test mutex is never poisoned");
        if bytes.len() < dest.len() {
            return Err(CryptoError::RandomFailed);
        }
        let rest = bytes.split_off(dest.len());
        dest.copy_from_slice(&bytes);
        *bytes = rest;
        Ok(())
    }
}

/// Runs a python3 script and returns its trimmed stdout. When python3 (or a module the script
/// imports) is missing, skips with a warning, or fails if RAMPART_REQUIRE_ORACLES=1.
pub(crate) fn python_oracle(script: &str) -> Option<String> {
    let required = std::env::var("RAMPART_REQUIRE_ORACLES").is_ok_and(|v| v == "1");
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).trim().to_owned()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            if required || !err.contains("ModuleNotFoundError") {
                panic!("python oracle failed: {err}");
            }
            eprintln!("warning: skipping python oracle check: {err}");
            None
        }
        Err(e) => {
            assert!(
                !required,
                "python3 required (RAMPART_REQUIRE_ORACLES=1): {e}"
            );
            eprintln!("warning: python3 not found, skipping oracle check: {e}");
            None
        }
    }
}
