//! Random bearer tokens (session cookies, invite and recovery links) and their stored hashes.
//!
//! A token is 32 random bytes (256 bits) from the OS, base64url without padding. Only its
//! SHA-256 is stored, so a copy of the database does not hand out working sessions or links.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh token and the hash to store for it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a token: lowercase hex SHA-256 (64 characters).
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, hb) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in base64url");
        assert_eq!(ha.len(), 64);
        assert_eq!(hash_token(&a), ha);
        assert_ne!(ha, hb);
    }
}
