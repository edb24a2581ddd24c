//! Tests of the Scaleo emulator over HTTP, one module per area, on the
//! harness in `harness.rs`.

mod api;
mod faults;
mod harness;
mod writes;
