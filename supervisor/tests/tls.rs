//! TLS to S3 with the shipped static supervisor: moto served over https with
//! a certificate of a private CA, reached by a name (`localhost`, from
//! `/etc/hosts` through the supervisor's own resolver). The supervisor
//! trusts that CA when the image's store (`SSL_CERT_FILE`) holds it, and
//! refuses the server when only the bundled Mozilla roots are there.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const CONFIG: &str = "\
name: tls
init_script: copy.sh
input:
- storage_provider: s3
  path: tls/in
output:
- storage_provider: s3
  path: tls/out
";

const COPY: &str = "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n";

fn moto_python() -> PathBuf {
    match std::env::var_os("SCAR_MOTO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => testkit::workspace_root().join(".emulator/venv/bin/python"),
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("this test needs the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`) and a server certificate for `localhost` it signed.
fn make_certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=scar test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// moto over https on 127.0.0.1, killed on drop.
struct TlsMoto {
    child: Child,
    port: u16,
}

impl Drop for TlsMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TlsMoto {
    fn start(certs: &Path) -> TlsMoto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(moto_python())
            .arg(testkit::workspace_root().join("scripts/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .arg("-c")
            .arg(certs.join("server.pem"))
            .arg("-k")
            .arg(certs.join("server.key"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto (hint: scripts/emulator.sh install, or set SCAR_MOTO_PYTHON)");
        let mut moto = TlsMoto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                moto.child.try_wait().unwrap().is_none(),
                "moto exited at start"
            );
            assert!(Instant::now() < deadline, "moto did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// Runs boto3 against the server (trusting the CA) with `code` after
    /// `s3 = boto3.client(...)`; returns its stdout.
    fn boto3(&self, ca: &Path, code: &str) -> String {
        let script = format!(
            "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', verify='{}', \
             region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n{code}",
            self.endpoint(),
            ca.display()
        );
        let out = Command::new(moto_python())
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "boto3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The static supervisor in command mode against `moto`, trusting `cert_file`.
fn run_static(f: &Function, moto: &TlsMoto, cert_file: &Path) -> Run {
    let bin = testkit::static_supervisor(Path::new(env!("CARGO_BIN_EXE_scar-supervisor")));
    let mut cmd = Command::new(bin);
    cmd.arg("run")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SCAR_FUNCTION_CONFIG_PATH", f.config_path())
        .env("TMPDIR", f.tmp.path())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("SSL_CERT_FILE", cert_file);
    run_stdin(cmd, s3_event("tls", "in/a.txt").as_bytes())
}

#[test]
fn s3_over_https_works_with_the_images_ca_and_fails_without_it() {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let ca = certs.path().join("ca.pem");
    let moto = TlsMoto::start(certs.path());
    moto.boto3(
        &ca,
        "s3.create_bucket(Bucket='tls')\ns3.put_object(Bucket='tls', Key='in/a.txt', Body=b'over tls\\n')",
    );
    let f = Function::new(CONFIG).with_script("copy.sh", COPY);

    // Only the bundled roots (the image's store is empty): the private CA
    // is unknown, so the download fails on the certificate.
    let empty = certs.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let refused = run_static(&f, &moto, &empty);
    assert!(!refused.success, "{refused:?}");
    let (kind, message) = refused.error();
    assert!(
        message.contains("tls/in/a.txt") && message.contains("UnknownIssuer"),
        "{kind}: {message}"
    );

    // The image's store holds the CA: the same run succeeds end to end.
    let trusted = run_static(&f, &moto, &ca);
    trusted.assert_ok();
    let body = moto.boto3(
        &ca,
        "import sys\nsys.stdout.write(s3.get_object(Bucket='tls', Key='out/a.txt')['Body'].read().decode())",
    );
    assert_eq!(body, "over tls\n");
    assert!(f.leftovers().is_empty(), "{:?}", f.leftovers());
}
