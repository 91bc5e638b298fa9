//! pipewise's domain: the records of a sales organisation, the sales process, the
//! opportunity event log and the rules that decide every change.
//!
//! This crate is pure: no I/O, no async, no database or HTTP types. Storage and transport
//! are adapters around it (see `ARCHITECTURE.md`).

#[macro_use]
mod text_enum;

pub mod access;
pub mod calendar;
pub mod credentials;
pub mod crm;
pub mod evidence;
pub mod exchange;
pub mod external;
pub mod forecast;
pub mod hygiene;
pub mod ids;
pub mod keys;
pub mod leads;
pub mod money;
pub mod opportunity;
pub mod org;
pub mod process;
pub mod stats;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod validation;
pub mod webhooks;
