//! A root filesystem without a C library, laid out in a temporary folder and
//! run with bubblewrap (`bwrap`), to try a binary the way a minimal image
//! would run it: busybox-static as `/bin/*` (`sh`, `cp`, `tr`, ...), the
//! files a test writes (`/etc/hosts`, `/etc/resolv.conf`, a function folder),
//! nothing else. The sandbox shares the host's network, so servers a test
//! starts on 127.0.0.1 are reachable; its own `/dev`, `/proc` and process
//! namespace keep it apart otherwise. Also reads an ELF file's dynamic
//! linking needs ([`elf_linking`]), to tell a static binary from a dynamic one
//! without trusting `ldd`.
//!
//! The tools come from Debian packages (`bubblewrap`, `busybox-static`); a
//! test that needs them is gated by its crate's build script (ignored, with
//! the reason, when they are missing outside CI) and fails under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A root filesystem in a temporary folder, removed on drop.
pub struct RootFs {
    path: PathBuf,
}

impl RootFs {
    /// A root holding only busybox-static (`/bin/busybox` and a link per
    /// applet), empty `/etc`, `/tmp` and `/var/task`. Panics with an install
    /// hint if busybox is missing or is not a static executable.
    pub fn busybox() -> RootFs {
        let busybox = require_tool("busybox", "busybox-static");
        match elf_linking(&busybox) {
            Ok(l) if l.is_static() => {}
            Ok(l) => panic!(
                "{} is dynamically linked ({l:?}), so the root would need a C library\n\
                 hint: apt-get install busybox-static",
                busybox.display()
            ),
            Err(e) => panic!("cannot read {}: {e}", busybox.display()),
        }
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "scar-rootfs-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        let root = RootFs { path };
        for dir in ["bin", "etc", "tmp", "var/task", "dev", "proc"] {
            root.mkdir(dir);
        }
        root.install(&busybox, "bin/busybox");
        let list = Command::new(&busybox)
            .arg("--list")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} --list: {e}", busybox.display()));
        assert!(list.status.success(), "busybox --list failed");
        for applet in String::from_utf8_lossy(&list.stdout).split_whitespace() {
            if applet != "busybox" {
                std::os::unix::fs::symlink("busybox", root.host_path(&format!("bin/{applet}")))
                    .unwrap_or_else(|e| panic!("link applet {applet}: {e}"));
            }
        }
        root
    }

    /// The root's folder on the host.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where `rel` (a path inside the root, without the leading `/`) is on the host.
    pub fn host_path(&self, rel: &str) -> PathBuf {
        self.path.join(rel.trim_start_matches('/'))
    }

    /// Creates a folder (and its parents) inside the root.
    pub fn mkdir(&self, rel: &str) {
        let dir = self.host_path(rel);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    }

    /// Writes a file inside the root (parents created).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let file = self.host_path(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        std::fs::write(&file, contents).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    }

    /// Makes a named pipe inside the root (with the host's `mkfifo`). Placed
    /// where a configuration file would be (`/etc/nsswitch.conf`), it makes
    /// any reader of that file block, so a test can prove nothing reads it.
    pub fn mkfifo(&self, rel: &str) {
        let fifo = self.host_path(rel);
        let status = Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap_or_else(|e| panic!("cannot run mkfifo: {e}"));
        assert!(status.success(), "mkfifo {} failed", fifo.display());
    }

    /// Copies a host file into the root as an executable (mode 0755).
    pub fn install(&self, host_file: &Path, rel: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let dest = self.host_path(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        std::fs::copy(host_file, &dest)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", host_file.display(), dest.display()));
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", dest.display()));
    }

    /// Files in the root that look like a C library or a dynamic loader
    /// (`libc.so*`, `ld-linux*`, `ld-musl*`, any `*.so*`). Empty for a root
    /// made by [`RootFs::busybox`] until a test adds one.
    pub fn shared_libraries(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![self.path.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                match entry.file_type() {
                    Ok(t) if t.is_dir() => stack.push(path),
                    _ if name.contains(".so") || name.starts_with("ld-") => found.push(path),
                    _ => {}
                }
            }
        }
        found.sort();
        found
    }

    /// A command that runs `program` (a path inside the root) as the root's
    /// process: `bwrap` with the root as `/`, fresh `/dev`, `/proc` and pid
    /// namespace, the host's network, an empty environment but `PATH=/bin`
    /// (add what the program needs with `.env`), killed when the caller dies.
    pub fn command(&self, program: &str) -> Command {
        let bwrap = require_tool("bwrap", "bubblewrap");
        let mut cmd = Command::new(bwrap);
        cmd.arg("--bind")
            .arg(&self.path)
            .arg("/")
            .args(["--dev", "/dev", "--proc", "/proc", "--unshare-pid"])
            .args(["--die-with-parent", "--chdir", "/", "--"])
            .arg(program)
            .env_clear()
            .env("PATH", "/bin")
            .stdin(Stdio::null());
        cmd
    }
}

impl Drop for RootFs {
    fn drop(&mut self) {
        // Keep the root of a failed test for the post-mortem.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A program found on `PATH` (or in `/usr/sbin`, `/sbin`, where Debian puts
/// daemons that a non-root `PATH` may lack).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// [`find_tool`], or a panic naming the Debian package that has it.
pub fn require_tool(name: &str, package: &str) -> PathBuf {
    find_tool(name)
        .unwrap_or_else(|| panic!("`{name}` is not installed\nhint: apt-get install {package}"))
}

/// What an ELF executable needs from the system to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfLinking {
    /// The program interpreter (`PT_INTERP`, the dynamic loader), if any.
    pub interpreter: Option<String>,
    /// The shared libraries it names (`DT_NEEDED`), in file order.
    pub needed: Vec<String>,
}

impl ElfLinking {
    /// No loader and no shared library: it starts on any Linux kernel alone.
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none() && self.needed.is_empty()
    }
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;

/// Reads the program headers (and the dynamic section) of a 64-bit
/// little-endian ELF file, the format of every x86_64 and aarch64 Linux
/// binary. Errors say what is malformed; nothing here panics on bad input.
pub fn elf_linking(path: &Path) -> Result<ElfLinking, String> {
    let data = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    parse_elf_linking(&data).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_elf_linking(data: &[u8]) -> Result<ElfLinking, String> {
    if data.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if data.get(4) != Some(&2) || data.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let phoff = u64_at(data, 0x20)?;
    let phentsize = u64::from(u16_at(data, 0x36)?);
    let phnum = u64::from(u16_at(data, 0x38)?);
    // (type, offset, vaddr, filesz) of each program header.
    let mut headers = Vec::new();
    for i in 0..phnum {
        let at = phoff
            .checked_add(
                i.checked_mul(phentsize)
                    .ok_or("program header table overflows")?,
            )
            .ok_or("program header table overflows")?;
        let at = usize::try_from(at).map_err(|_| "program header offset too large")?;
        headers.push((
            u32_at(data, at)?,
            u64_at(data, at + 8)?,
            u64_at(data, at + 16)?,
            u64_at(data, at + 32)?,
        ));
    }
    let mut linking = ElfLinking {
        interpreter: None,
        needed: Vec::new(),
    };
    if let Some(&(_, offset, _, size)) = headers.iter().find(|h| h.0 == PT_INTERP) {
        let bytes = slice(data, offset, size)?;
        let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        linking.interpreter = Some(String::from_utf8_lossy(&bytes[..end]).into_owned());
    }
    let Some(&(_, dyn_offset, _, dyn_size)) = headers.iter().find(|h| h.0 == PT_DYNAMIC) else {
        return Ok(linking);
    };
    let dynamic = slice(data, dyn_offset, dyn_size)?;
    let mut needed_offsets = Vec::new();
    let mut strtab_vaddr = None;
    for entry in dynamic.chunks_exact(16) {
        let tag = u64_at(entry, 0)?;
        let value = u64_at(entry, 8)?;
        match tag {
            DT_NULL => break,
            DT_NEEDED => needed_offsets.push(value),
            DT_STRTAB => strtab_vaddr = Some(value),
            _ => {}
        }
    }
    if needed_offsets.is_empty() {
        return Ok(linking);
    }
    let strtab_vaddr = strtab_vaddr.ok_or("DT_NEEDED entries without a DT_STRTAB")?;
    // The string table is given by address: find the loaded segment holding it.
    let strtab = headers
        .iter()
        .filter(|h| h.0 == PT_LOAD)
        .find(|&&(_, _, vaddr, filesz)| strtab_vaddr >= vaddr && strtab_vaddr - vaddr < filesz)
        .map(|&(_, offset, vaddr, _)| offset + (strtab_vaddr - vaddr))
        .ok_or("DT_STRTAB is outside every loaded segment")?;
    for name_offset in needed_offsets {
        let start = usize::try_from(strtab.saturating_add(name_offset))
            .map_err(|_| "string offset too large")?;
        let rest = data.get(start..).ok_or("DT_NEEDED name outside the file")?;
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or("unterminated DT_NEEDED name")?;
        linking
            .needed
            .push(String::from_utf8_lossy(&rest[..end]).into_owned());
    }
    Ok(linking)
}

fn slice(data: &[u8], offset: u64, size: u64) -> Result<&[u8], String> {
    let start = usize::try_from(offset).map_err(|_| "offset too large")?;
    let len = usize::try_from(size).map_err(|_| "size too large")?;
    data.get(start..start.checked_add(len).ok_or("segment overflows")?)
        .ok_or_else(|| format!("segment at {offset}+{size} is outside the file"))
}

fn u16_at(data: &[u8], at: usize) -> Result<u16, String> {
    bytes_at::<2>(data, at).map(u16::from_le_bytes)
}

fn u32_at(data: &[u8], at: usize) -> Result<u32, String> {
    bytes_at::<4>(data, at).map(u32::from_le_bytes)
}

fn u64_at(data: &[u8], at: usize) -> Result<u64, String> {
    bytes_at::<8>(data, at).map(u64::from_le_bytes)
}

fn bytes_at<const N: usize>(data: &[u8], at: usize) -> Result<[u8; N], String> {
    data.get(at..at.saturating_add(N))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("truncated at byte {at}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(parse_elf_linking(b"").is_err());
        assert!(parse_elf_linking(b"#!/bin/sh\n").is_err());
        let mut header = b"\x7fELF\x02\x01".to_vec();
        header.resize(64, 0);
        // A header claiming one program header far beyond the end.
        header[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        header[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        assert!(parse_elf_linking(&header).is_err());
    }

    #[test]
    fn the_test_runner_itself_is_dynamic() {
        // Test binaries link glibc dynamically on this toolchain's default target.
        let me = std::env::current_exe().unwrap();
        let linking = elf_linking(&me).unwrap();
        assert!(linking.interpreter.is_some(), "{linking:?}");
        assert!(
            linking.needed.iter().any(|l| l.starts_with("libc.so")),
            "{linking:?}"
        );
        assert!(!linking.is_static());
    }
}
