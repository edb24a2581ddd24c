//! One file per stream, each a type the plugin registers: `lists` and
//! `contacts` (paged reads), and `members` (a child stream of the lists).

pub(crate) mod contacts;
pub(crate) mod lists;
pub(crate) mod members;
