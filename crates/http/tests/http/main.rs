//! The client against local servers on 127.0.0.1: retries, the limiter,
//! pagination and redaction. No test asserts an upper bound on time; waits
//! are checked as lower bounds the server measured, which cannot flake.

// `cfg(test)` so that clippy's allow-unwrap-in-tests covers the helpers too.
#[cfg(test)]
mod hostile;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod paged_reader;
#[cfg(test)]
mod pagination;
#[cfg(test)]
mod redaction;
#[cfg(test)]
mod retries;
#[cfg(test)]
mod support;
