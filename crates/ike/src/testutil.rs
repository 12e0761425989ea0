//! Test helpers: the python oracle runner, under the shared rule of `rampart_testkit`.

/// Runs a python3 script and returns its trimmed stdout; `None` when python3 (or a module the
/// script imports) is missing and oracles are not required.
pub(crate) fn python_oracle(script: &str) -> Option<String> {
    rampart_testkit::python(script, "").map(|out| out.trim().to_owned())
}
