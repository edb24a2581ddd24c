//! Tests of the emulators over HTTP, one module per area, on the harness in
//! `harness.rs`.

mod binary;
mod faults;
mod harness;
mod klaviyo;
mod mailchimp;
