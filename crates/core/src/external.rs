//! Records' identities in the systems they were imported from, so importing the same export
//! again finds what it already brought in instead of making duplicates.

use uuid::Uuid;

text_enum! {
    /// A system pipewise imports from.
    pub enum ExternalSystem {
        Salesforce = "salesforce",
        Hubspot = "hubspot",
        Csv = "csv",
    }
}

text_enum! {
    /// The kind of pipewise record an external record became.
    pub enum ExternalKind {
        User = "user",
        Account = "account",
        Contact = "contact",
        Lead = "lead",
        Opportunity = "opportunity",
        Activity = "activity",
    }
}

/// One external record and the pipewise record it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalKey {
    pub system: ExternalSystem,
    pub kind: ExternalKind,
    /// The id the source system gives the record.
    pub external_id: String,
    pub record_id: Uuid,
}
