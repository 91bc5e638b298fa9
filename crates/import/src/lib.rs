//! Imports CRM exports into pipewise: a Salesforce data export, HubSpot's CSV exports, or
//! generic CSV files described by a mapping file, each with as much deal history as the
//! export keeps.
//!
//! Reading turns a folder of files into records with the source's ids, every row it could
//! not take reported as an [`Issue`]: [`prepare`] keeps them all in a [`Prepared`] set (a dry
//! run), [`import`] hands them to a writer in batches as they are finished. The records
//! already imported from the same system ([`Known`]) are recognised by those ids and left
//! alone, so importing the same export again, or finishing an interrupted import, adds only
//! what is missing.

mod fields;
pub mod generic;
mod handover;
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
pub use run::{Imported, Request, Source, import, prepare, read};

use mapping::Unmapped;
use table::FileError;

/// Why an import stopped.
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
    #[error(
        "writing failed: {0}; what was written is kept, and running the same import again adds the rest"
    )]
    Write(pipewise_store::StoreError),
    #[error(
        "{error}; the {written} records written before it are kept, and running the import again once it is mended adds the rest"
    )]
    Partly {
        written: u64,
        error: Box<ImportError>,
    },
}
