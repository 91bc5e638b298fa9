//! The records that let people and programs in: browser sessions and API tokens. Their
//! secrets are made and checked by the server; only hashes of them are ever stored.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ids::{SessionId, TokenId, UserId};
use crate::text::Label;
use crate::validation::InvalidValue;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

/// Shortest password accepted: long passphrases beat rules about symbols.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, so hashing cannot be made to take long.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Checks a new password against the policy.
pub fn check_password(password: &str) -> Result<(), InvalidValue> {
    let chars = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) && !password.trim().is_empty() {
        Ok(())
    } else {
        // Never echo a password back.
        Err(InvalidValue::new(
            &format!("{chars} characters"),
            format!("a password of {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_twelve_to_256_characters() {
        assert!(check_password("eleven char").is_err());
        assert!(check_password("twelve chars").is_ok());
        assert!(check_password(&"é".repeat(256)).is_ok());
        assert!(check_password(&"é".repeat(257)).is_err());
        assert!(check_password(&" ".repeat(20)).is_err());
        let refused = check_password("short").unwrap_err();
        assert_eq!(refused.value(), "5 characters");
    }
}
