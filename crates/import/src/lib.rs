//! Imports CRM exports into pipewise: a Salesforce data export, HubSpot's CSV exports, or
//! generic CSV files described by a mapping file, each with as much deal history as the
//! export keeps.
//!
//! Reading is separate from writing: [`prepare`] turns a folder of files into a [`Prepared`]
//! set of records with the source's ids, every row it could not take reported as an
//! [`Issue`]; [`write`] stores them in batches. The records already imported from the same system
//! ([`Known`]) are recognised by those ids and left alone, so importing the same export
//! again, or finishing an interrupted import, adds only what is missing.

mod fields;
pub mod generic;
pub mod history;
pub mod hubspot;
pub mod issues;
pub mod mapping;
mod prepared;
mod records;
mod run;
pub mod salesforce;
pub mod table;
pub mod values;

pub use issues::Issue;
pub use prepared::{Batches, Context, Keyed, Known, Prepared, Tally};
pub use run::{Request, Source, prepare, read, write};

use mapping::Unmapped;
use table::FileError;

/// Why an import stopped before writing anything.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{folder} has no {file}; {why}")]
    MissingFile {
        folder: String,
        file: &'static str,
        why: &'static str,
    },
    #[error("{0}")]
    Unmapped(Unmapped),
    #[error("the mapping names process `{0}`, which the workspace does not have")]
    NoProcess(String),
    #[error(transparent)]
    Store(#[from] pipewise_store::StoreError),
}
