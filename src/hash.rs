//! Content hashes, in the two spellings scar uses: hex (layer contents,
//! ids, digests) and base64 (Lambda's `CodeSha256`). A leaf module: every
//! layer may use it, it uses none.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Base64 of the SHA-256 of a deployment package: Lambda's `CodeSha256`.
pub fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// A writer that only hashes what it is given (to hash a file streaming,
/// with `std::io::copy`).
#[derive(Default)]
pub struct Sha256Writer(Sha256);

impl Sha256Writer {
    /// The hex SHA-256 of everything written.
    pub fn hex(&self) -> String {
        hex(&self.0.clone().finalize())
    }
}

impl std::io::Write for Sha256Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_one_digest() {
        assert_eq!(
            hex_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
