//! Registry credentials: the Docker credentials file (`config.json` in
//! `$DOCKER_CONFIG`, else `~/.docker/`: its `auths` entries, as `docker
//! login` writes them) and ECR's (GetAuthorizationToken, added by the
//! caller). A registry with none is asked anonymously (oci-client then
//! fetches the anonymous token a registry such as Docker Hub hands out).
//! Credentials are secrets: nothing here logs or shows them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

/// The key `docker login` uses for Docker Hub.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// User names and passwords by registry host.
#[derive(Clone, Default)]
pub struct Credentials {
    by_host: BTreeMap<String, (String, String)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hosts only: the secrets stay out of every debug print.
        f.debug_struct("Credentials")
            .field("hosts", &self.by_host.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why the credentials file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the Docker credentials file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Docker credentials file {} is not valid JSON", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the Docker credentials file {} has an `auth` for `{host}` that is not base64 of `user:password`", path.display())]
    Entry { path: PathBuf, host: String },
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The credentials file docker reads: `$DOCKER_CONFIG/config.json`, else
/// `$HOME/.docker/config.json`.
pub fn docker_config_path(docker_config: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    match docker_config {
        Some(dir) => Some(dir.join("config.json")),
        None => home.map(|h| h.join(".docker").join("config.json")),
    }
}

/// The host an `auths` key names: `https://host/v1/` and `host` alike.
fn host_of_key(key: &str) -> String {
    if key == DOCKER_HUB_KEY {
        return super::reference::DOCKER_HUB.to_string();
    }
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest).to_string()
}

impl Credentials {
    /// Reads the credentials file at `path`; a file that does not exist is
    /// no credentials.
    pub fn from_docker_config(path: &Path) -> Result<Credentials, AuthError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::default()),
            Err(source) => {
                return Err(AuthError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let file: ConfigFile = serde_json::from_str(&text).map_err(|source| AuthError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let mut c = Credentials::default();
        for (key, entry) in file.auths {
            let host = host_of_key(&key);
            let pair = match (entry.auth, entry.username, entry.password) {
                (Some(auth), _, _) if !auth.is_empty() => base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| {
                        s.split_once(':')
                            .map(|(u, p)| (u.to_string(), p.to_string()))
                    })
                    .ok_or_else(|| AuthError::Entry {
                        path: path.to_path_buf(),
                        host: host.clone(),
                    })?,
                (_, Some(u), Some(p)) => (u, p),
                // An entry kept by a credential helper: nothing here.
                _ => continue,
            };
            c.by_host.insert(host, pair);
        }
        Ok(c)
    }

    /// Sets the credentials of `host`.
    pub fn insert(&mut self, host: &str, user: String, password: String) {
        self.by_host.insert(host.to_string(), (user, password));
    }

    /// Whether there are credentials for `host`.
    pub fn has(&self, host: &str) -> bool {
        self.by_host.contains_key(host)
    }

    /// How to authenticate to `host` (the registry contacted), falling back
    /// to those of `logical` (the registry the reference names, before
    /// `registries.conf` rewrote it); anonymous when there are none.
    pub fn auth(&self, host: &str, logical: &str) -> RegistryAuth {
        match self.by_host.get(host).or_else(|| self.by_host.get(logical)) {
            Some((u, p)) => RegistryAuth::Basic(u.clone(), p.clone()),
            None => RegistryAuth::Anonymous,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Credentials, AuthError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        std::fs::write(&p, text).unwrap();
        Credentials::from_docker_config(&p)
    }

    #[test]
    fn docker_logins_are_read_by_host() {
        let auth = base64::engine::general_purpose::STANDARD.encode("u:p:w");
        let c = read(&format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{auth}"}},
                "registry.example.com:5000": {{"username": "a", "password": "b"}},
                "helper.example.com": {{}}}}, "credsStore": "desktop"}}"#
        ))
        .unwrap();
        assert!(
            matches!(c.auth("docker.io", "docker.io"), RegistryAuth::Basic(u, p) if u == "u" && p == "p:w")
        );
        assert!(
            matches!(c.auth("127.0.0.1:1", "registry.example.com:5000"), RegistryAuth::Basic(u, _) if u == "a")
        );
        assert!(matches!(
            c.auth("helper.example.com", "helper.example.com"),
            RegistryAuth::Anonymous
        ));
        assert!(!format!("{c:?}").contains("p:w"));
    }

    #[test]
    fn a_missing_file_is_no_credentials_and_a_bad_one_is_an_error_naming_it() {
        let c = Credentials::from_docker_config(Path::new("/nonexistent/config.json")).unwrap();
        assert!(!c.has("docker.io"));
        let e = read("{").unwrap_err().to_string();
        assert!(
            e.contains("config.json") && e.contains("not valid JSON"),
            "{e}"
        );
        let e = read(r#"{"auths": {"r.io": {"auth": "%%%"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`r.io`") && e.contains("base64"), "{e}");
    }
}
