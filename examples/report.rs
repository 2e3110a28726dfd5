//! Prints the report of the fixed scripted session in
//! [`bottleneck::selftest`]. `.ci/run` runs this natively and as
//! wasm32-wasip1 under Node's WASI, and compares both with the browser's.

fn main() {
    println!("{}", bottleneck::selftest::scripted_report());
}
