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

/// Runs a python3 script and returns its trimmed stdout, under the shared oracle rule of
/// `rampart_testkit`.
pub(crate) fn python_oracle(script: &str) -> Option<String> {
    rampart_testkit::python(script, "").map(|out| out.trim().to_owned())
}
