//! Test helpers: the python oracle runner (the shared RAMPART_REQUIRE_ORACLES rule).

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
