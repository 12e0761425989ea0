//! SPD lookup benchmark (being written).
fn main() {}
