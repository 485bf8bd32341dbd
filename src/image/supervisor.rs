//! Where the supervisor that goes into a function's image comes from, and
//! the check that it would start there. An image brings its own C library,
//! or none (busybox-static, distroless), so the supervisor must need
//! nothing from it: an ELF executable for the function's architecture
//! with no program interpreter (statically linked). Anything else is
//! refused before any change, with how to get the right one.

use std::path::{Path, PathBuf};

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
use object::Endianness;

/// The supervisor's file name beside `scar` and on `PATH`.
pub const BINARY: &str = "scar-supervisor";

/// How to get a supervisor that works in any image.
pub const HINT: &str = "install both binaries with `scripts/install.sh` (the static supervisor goes beside `scar`), or pass `--supervisor PATH` (or set SCAR_SUPERVISOR) to a statically linked `scar-supervisor` built by `supervisor/build-static.sh`";

/// Why a supervisor cannot go into an image.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("no supervisor for the function images was found (looked for `--supervisor`, SCAR_SUPERVISOR, `{BINARY}` beside scar and on PATH, and the supervisor layer's `bootstrap`)\nhint: {HINT}")]
    NotFound,
    #[error("cannot read the supervisor {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the supervisor {} would not start in a function's image: {why}\nhint: {HINT}", path.display())]
    Unfit { path: PathBuf, why: String },
}

/// The candidates, in order: `given` (the flag or SCAR_SUPERVISOR), then
/// `scar-supervisor` beside the running `scar` (and one folder up, as in
/// `target/`), then on `PATH`.
pub fn candidates(
    given: Option<&Path>,
    exe: Option<&Path>,
    path_var: Option<&str>,
) -> Vec<PathBuf> {
    if let Some(g) = given {
        return vec![g.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Some(dir) = exe.and_then(Path::parent) {
        out.push(dir.join(BINARY));
    }
    if let Some(p) = path_var {
        out.extend(
            std::env::split_paths(p)
                .filter(|d| !d.as_os_str().is_empty())
                .map(|d| d.join(BINARY)),
        );
    }
    out
}

/// The first candidate that is a file ([`candidates`]); `given` is taken
/// even when it is not (its check then says why).
pub fn find(given: Option<&Path>, exe: Option<&Path>, path_var: Option<&str>) -> Option<PathBuf> {
    let list = candidates(given, exe, path_var);
    if given.is_some() {
        return list.into_iter().next();
    }
    list.into_iter().find(|p| p.is_file())
}

/// The ELF machine of a Lambda architecture.
fn machine_of(architecture: &str) -> (u16, &'static str) {
    match architecture {
        "arm64" | "aarch64" => (elf::EM_AARCH64, "arm64 (aarch64)"),
        _ => (elf::EM_X86_64, "x86_64"),
    }
}

/// Checks that the executable `bytes` (read from `path`) starts in any
/// image of `architecture`: a 64-bit ELF executable for it, with no
/// program interpreter.
pub fn check(path: &Path, bytes: &[u8], architecture: &str) -> Result<(), SupervisorError> {
    let unfit = |why: String| SupervisorError::Unfit {
        path: path.to_path_buf(),
        why,
    };
    let file = ElfFile64::<Endianness>::parse(bytes)
        .map_err(|e| unfit(format!("it is not a 64-bit ELF executable ({e})")))?;
    let endian = file.endian();
    let header = file.elf_header();
    let (want, name) = machine_of(architecture);
    let machine = header.e_machine(endian);
    if machine != want {
        let have = match machine {
            elf::EM_X86_64 => "x86_64".to_string(),
            elf::EM_AARCH64 => "aarch64".to_string(),
            other => format!("ELF machine {other}"),
        };
        return Err(unfit(format!(
            "it is built for {have}, and the function runs on {name}"
        )));
    }
    let interpreter = file
        .elf_program_headers()
        .iter()
        .find(|h| h.p_type(endian) == elf::PT_INTERP)
        .and_then(|h| h.data(endian, bytes).ok())
        .map(|d| String::from_utf8_lossy(d.split(|b| *b == 0).next().unwrap_or(d)).into_owned());
    if let Some(interp) = interpreter {
        return Err(unfit(format!(
            "it is dynamically linked (it needs the loader `{interp}` and a C library, which the image may not have, or have in another version)"
        )));
    }
    Ok(())
}

/// Reads and checks the supervisor at `path` ([`check`]).
pub fn check_file(path: &Path, architecture: &str) -> Result<(), SupervisorError> {
    let bytes = std::fs::read(path).map_err(|source| SupervisorError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    check(path, &bytes, architecture)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_given_one_wins_then_beside_scar_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let other = dir.path().join("other");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(BINARY), b"x").unwrap();
        let exe = bin.join("scar");
        let path_var = std::env::join_paths([&other]).unwrap();
        let path_var = path_var.to_str().unwrap();
        assert_eq!(
            find(None, Some(&exe), Some(path_var)),
            Some(other.join(BINARY))
        );
        std::fs::write(bin.join(BINARY), b"x").unwrap();
        assert_eq!(
            find(None, Some(&exe), Some(path_var)),
            Some(bin.join(BINARY))
        );
        let given = Path::new("/nowhere/sup");
        assert_eq!(
            find(Some(given), Some(&exe), Some(path_var)),
            Some(given.to_path_buf())
        );
        assert_eq!(find(None, None, None), None);
    }

    #[test]
    fn a_dynamic_or_foreign_or_non_elf_binary_is_refused_with_why() {
        // This test binary itself: dynamically linked, x86_64.
        let me = std::env::current_exe().unwrap();
        let e = check_file(&me, "x86_64").unwrap_err().to_string();
        assert!(
            e.contains("dynamically linked") && e.contains("ld-linux"),
            "{e}"
        );
        assert!(e.contains("hint:"), "{e}");
        let e = check_file(&me, "arm64").unwrap_err().to_string();
        assert!(e.contains("built for x86_64") && e.contains("arm64"), "{e}");
        let e = check(Path::new("s.sh"), b"#!/bin/sh\n", "x86_64")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.sh") && e.contains("not a 64-bit ELF"), "{e}");
        let e = check_file(Path::new("/nonexistent/sup"), "x86_64")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/sup"), "{e}");
    }
}
