//! The records that let people and programs in: browser sessions and API tokens. Their
//! secrets are made and checked by the server; only hashes of them are ever stored.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ids::{SessionId, TokenId, UserId};
use crate::text::Label;

text_enum! {
    /// What an API token may do on behalf of its user.
    pub enum TokenScope {
        /// Only read.
        Read = "read",
        /// Read and write, as far as the user's role allows.
        Write = "write",
    }
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A credential for a program acting as its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    /// What the token is for, as its owner named it ("nightly export").
    pub name: Label,
    pub scope: TokenScope,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}
