//! What counts as a secret, in one place: by a key's name (`DB_PASS`,
//! `secret_key`, `GITHUB_TOKEN`, ...) and by a value's shape (a URL that
//! carries `user:password@`). Everything that shows values (diagnostics,
//! plans, saved plans, package views, logs) asks here, and masks with
//! [`MASK`], whose length never depends on the secret's.

/// What stands for a secret value wherever one would be shown. Fixed: a
/// mask never tells the secret's length.
pub const MASK: &str = "(sensitive value)";

/// What stands for a secret value that a change alters: a change to a
/// secret alone never renders as an empty diff.
pub const MASK_CHANGED: &str = "(sensitive value changed)";

/// The parts of a key name that make its value a secret.
const SECRET_WORDS: &[&str] = &[
    "PASS",
    "PWD",
    "SECRET",
    "TOKEN",
    "KEY",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
    "SIGNATURE",
    "COOKIE",
    "SESSION",
];

/// Whether a key names a secret: its upper-cased name contains one of
/// `PASS`, `PWD`, `SECRET`, `TOKEN`, `KEY`, `CREDENTIAL`, `AUTH`,
/// `PRIVATE`, `SIGNATURE`, `COOKIE`, `SESSION`. Errs on the side of
/// masking (`AUTHOR` is masked too).
pub fn key_looks_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| k.contains(w))
}

/// Whether a value is a secret by its shape: a URL with a password in its
/// user-info part (`postgres://user:pw@host/db`).
pub fn value_looks_secret(value: &str) -> bool {
    url_password_range(value).is_some()
}

/// Whether a `key: value` pair is secret by the key's name or the value's
/// shape.
pub fn looks_secret(key: &str, value: &str) -> bool {
    key_looks_secret(key) || value_looks_secret(value)
}

/// The byte range of the password in `scheme://user:password@host...`.
fn url_password_range(value: &str) -> Option<std::ops::Range<usize>> {
    let scheme_end = value.find("://")?;
    let scheme = &value[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let rest_start = scheme_end + 3;
    let rest = &value[rest_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    if colon + 1 >= userinfo.len() {
        return None;
    }
    Some(rest_start + colon + 1..rest_start + at)
}

/// A value with any URL password replaced by [`MASK`]; other text as is.
pub fn mask_url_password(value: &str) -> String {
    match url_password_range(value) {
        Some(r) => format!("{}{MASK}{}", &value[..r.start], &value[r.end..]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for k in [
            "DB_PASS",
            "db_password",
            "secret_key",
            "GITHUB_TOKEN",
            "access_key",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "AUTH_HEADER",
            "BASIC_AUTH",
            "ssh_private",
            "MYSQL_PWD",
        ] {
            assert!(key_looks_secret(k), "{k}");
        }
        for k in [
            "MEMORY",
            "INPUT_BUCKET",
            "name",
            "path",
            "LOG_LEVEL",
            "region",
        ] {
            assert!(!key_looks_secret(k), "{k}");
        }
    }

    #[test]
    fn secret_shapes() {
        assert!(value_looks_secret("postgres://u:pw@host/db"));
        assert!(value_looks_secret("https://user:p%40ss@example.org"));
        assert!(!value_looks_secret("https://user@example.org/a:b@c"));
        assert!(!value_looks_secret("https://example.org/x?u=a:b@c"));
        assert!(!value_looks_secret("user:pw@host"));
        assert!(!value_looks_secret("https://u:@host"));
        assert_eq!(
            mask_url_password("postgres://u:pw@host/db"),
            format!("postgres://u:{MASK}@host/db")
        );
        assert_eq!(mask_url_password("plain"), "plain");
    }

    #[test]
    fn the_mask_does_not_depend_on_the_secret() {
        assert_eq!(
            mask_url_password("s://u:a@h"),
            mask_url_password("s://u:aaaaaaaaaaaaaaaa@h")
        );
    }
}
