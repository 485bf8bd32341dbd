//! A real OCI registry on 127.0.0.1 for tests: Debian's `docker-registry`
//! (the CNCF distribution registry), started on a free port with its own
//! storage folder, stopped on drop. Plain HTTP, as a local registry is.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry binary's name on PATH.
pub const BINARY: &str = "docker-registry";

/// A running registry.
pub struct Registry {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Registry {
    /// Starts a registry and waits until `/v2/` answers. Panics with what
    /// to install when the binary is missing.
    pub fn start() -> Registry {
        Registry::start_with(None)
    }

    /// A registry that answers only to `user` with `password` (HTTP basic
    /// auth from an htpasswd file, as a private registry has it).
    pub fn start_with_login(user: &str, password: &str) -> Registry {
        Registry::start_with(Some((user, password)))
    }

    fn start_with(login: Option<(&str, &str)>) -> Registry {
        let port = super::free_port();
        let dir = std::env::temp_dir().join(format!("scar-registry-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("storage")).expect("create the registry folder");
        let config = dir.join("config.yml");
        let auth = match login {
            Some((user, password)) => {
                let hash = bcrypt::hash(password, 4).expect("hash the password");
                let file = dir.join("htpasswd");
                std::fs::write(&file, format!("{user}:{hash}\n")).expect("write htpasswd");
                format!(
                    "auth: {{htpasswd: {{realm: scar-test, path: {}}}}}\n",
                    file.display()
                )
            }
            None => String::new(),
        };
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp: {{addr: 127.0.0.1:{port}}}\n{auth}",
                dir.join("storage").display()
            ),
        )
        .expect("write the registry config");
        let log = std::fs::File::create(dir.join("log")).expect("create the registry log");
        let child = Command::new(BINARY)
            .args(["serve", &config.display().to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `{BINARY}`: {e}\nhint: apt-get install docker-registry")
            });
        let mut r = Registry { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!(
                    "{BINARY} exited with {status}: {}",
                    std::fs::read_to_string(r.dir.join("log")).unwrap_or_default()
                );
            }
            let ready = match super::http_get_status(r.port, "/v2/") {
                Some(200) => true,
                Some(401) => login.is_some(),
                _ => false,
            };
            if ready {
                return r;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        r.stop();
        panic!("{BINARY} did not answer on 127.0.0.1:{port}");
    }

    /// `127.0.0.1:<port>`: the registry host of image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
