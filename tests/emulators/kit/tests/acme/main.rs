//! The kit's own tests: a small vendor written on the kit (`acme.rs`, what
//! a new vendor emulator looks like) driven through every shared mechanism
//! over HTTP: auth schemes, paging styles and their loops, rate-limit
//! windows and the concurrency cap, every fault knob, and the control
//! routes.

mod acme;
mod faults;
mod mechanisms;
mod path_aware;
