//! End-to-end tests: the real `cutover` binary, real built plugins, real files.
//! One module per verb, on the harness in `cutover_e2e`.

mod accounting;
mod affiliate;
mod cli;
mod consent;
mod esp;
mod hostile;
mod interrupt;
mod mailman;
mod migrate;
mod partners;
mod plugins;
mod redirects;
mod resume;
mod samples;
mod scaffold;
mod secrets;
mod state;
mod trust;
