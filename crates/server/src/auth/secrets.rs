//! The secrets that let people and programs in: random session and token secrets, of which
//! only SHA-256 hashes are stored, and argon2id password hashes.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use pipewise_core::ids::{SessionId, TokenId};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What API tokens start with, so they are recognisable in configuration and by scanners.
const TOKEN_PREFIX: &str = "pwt_";

/// 256 random bits: too many to guess, so a fast hash is enough to store them.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret([u8; 32]);

impl Secret {
    pub(crate) fn generate() -> Self {
        let mut bytes = [0; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    fn parse(text: &str) -> Option<Self> {
        let mut bytes = [0; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// What the store keeps.
    pub(crate) fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0).into()
    }

    /// Whether this is the secret whose hash is `stored`, in time independent of where they
    /// differ.
    pub(crate) fn matches(&self, stored: &[u8]) -> bool {
        self.hash().ct_eq(stored).into()
    }

    /// The token a browser sends back with every change it asks for: derived from the
    /// session secret, which scripts cannot read from the HttpOnly cookie.
    pub(crate) fn csrf_token(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"pipewise csrf\0");
        hasher.update(self.0);
        hex::encode(hasher.finalize())
    }
}

/// An API token as programs send it: `pwt_<id>_<secret>`.
pub(crate) fn token_text(id: TokenId, secret: &Secret) -> String {
    format!("{TOKEN_PREFIX}{}_{}", id, hex::encode(secret.0))
}

pub(crate) fn parse_token(text: &str) -> Option<(TokenId, Secret)> {
    let (id, secret) = text.strip_prefix(TOKEN_PREFIX)?.split_once('_')?;
    Some((id.parse::<TokenId>().ok()?, Secret::parse(secret)?))
}

/// A session cookie's value: `<id>.<secret>`.
pub(crate) fn session_text(id: SessionId, secret: &Secret) -> String {
    format!("{}.{}", id, hex::encode(secret.0))
}

pub(crate) fn parse_session(text: &str) -> Option<(SessionId, Secret)> {
    let (id, secret) = text.split_once('.')?;
    Some((id.parse::<SessionId>().ok()?, Secret::parse(secret)?))
}

/// A webhook subscription's signing secret: `whsec_` and 256 random bits in hex.
pub(crate) fn webhook_secret() -> String {
    format!("whsec_{}", hex::encode(Secret::generate().0))
}

/// A random password for a first sign-in: 128 bits as 32 hex digits.
pub fn new_password() -> String {
    let mut bytes = [0; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[derive(Debug, thiserror::Error)]
#[error("hashing the password failed: {0}")]
pub struct HashFailed(argon2::password_hash::Error);

/// An argon2id hash of `password` with a fresh salt, as a PHC string. Slow by design (tens
/// of milliseconds); call off the async threads.
pub fn hash_password(password: &str) -> Result<String, HashFailed> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(HashFailed)
}

/// Whether `password` is the one `stored` (a PHC string) was made from. With no stored hash
/// (an unknown e-mail, a user without a password), a dummy hash is checked instead, so the
/// answer takes as long and an attacker cannot tell which e-mails exist.
pub(crate) fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: LazyLock<Option<String>> =
        LazyLock::new(|| hash_password("no password matches this").ok());
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (DUMMY.as_deref().unwrap_or_default(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let verified = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    verified && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_cookies_read_back_and_match_only_their_hash() {
        let id = TokenId::generate();
        let secret = Secret::generate();
        let text = token_text(id, &secret);
        let (read_id, read_secret) = parse_token(&text).unwrap();
        assert_eq!(read_id, id);
        assert!(read_secret.matches(&secret.hash()));
        assert!(!Secret::generate().matches(&secret.hash()));
        assert!(parse_token("pwt_nothex_00").is_none());
        assert!(parse_token(&text.replacen("pwt_", "xyz_", 1)).is_none());
        let session = SessionId::generate();
        let (read, _) = parse_session(&session_text(session, &secret)).unwrap();
        assert_eq!(read, session);
        assert_ne!(secret.csrf_token(), Secret::generate().csrf_token());
    }

    #[test]
    fn passwords_verify_against_their_argon2id_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("no password matches this", None));
        assert!(!verify_password("anything", Some("not a phc string")));
    }
}
