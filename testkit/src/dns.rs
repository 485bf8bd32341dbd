//! A DNS server for tests that resolve names inside a root filesystem:
//! dnsmasq (Debian's `dnsmasq-base`) on a loopback address of
//! 127.53.0.0/16, port 53 (a `resolv.conf` cannot name a port, so this
//! needs root).

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::rootfs::require_tool;

/// A DNS server on a loopback address, port 53 (resolv.conf cannot carry a
/// port), answering `names` with 127.0.0.1 and nothing else; killed on drop.
pub struct Dnsmasq {
    child: Child,
    /// The address it serves on (port 53).
    pub address: Ipv4Addr,
}

impl Dnsmasq {
    /// Starts one; `offset` keeps the addresses two test binaries try
    /// apart. Panics with what to install when dnsmasq is missing.
    pub fn start(offset: u32, names: &[&str]) -> Dnsmasq {
        let dnsmasq = require_tool("dnsmasq", "dnsmasq-base");
        let mut last = String::new();
        // A few addresses of 127.53.0.0/16, in case one is taken.
        for attempt in 0..5u32 {
            let n = (std::process::id() + offset + attempt * 7919) % 65_000;
            let address = Ipv4Addr::new(127, 53, (n / 250) as u8, (n % 250 + 1) as u8);
            let mut cmd = Command::new(&dnsmasq);
            cmd.args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
            ])
            .args([
                "--no-hosts",
                "--bind-interfaces",
                "--port=53",
                "--pid-file=",
            ])
            .args(["--user=root", "--local=/test/", "--log-facility=-"])
            .arg(format!("--listen-address={address}"));
            for name in names {
                cmd.arg(format!("--host-record={name},127.0.0.1"));
            }
            let mut child = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", dnsmasq.display()));
            let ready_by = Instant::now() + Duration::from_secs(10);
            while Instant::now() < ready_by {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                let tcp = SocketAddr::from((address, 53));
                if TcpStream::connect_timeout(&tcp, Duration::from_millis(200)).is_ok() {
                    return Dnsmasq { child, address };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("dnsmasq could not serve on any 127.53.x.y:53 (port 53 needs root):\n{last}");
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
