//! An emulator and a real OCI registry for the image tests: moto for
//! Lambda, S3, IAM and ECR's control plane, and Debian's `docker-registry`
//! on 127.0.0.1 standing in, through `registries.conf`, for Docker Hub and
//! for the account's ECR registry (moto has no registry data plane). The
//! `scar` commands get the static supervisor for the images.

use std::path::Path;

use serde_json::json;
use testkit::image::{self, Image};
use testkit::registry::Registry;

/// The account's ECR registry in moto (account 123456789012, us-east-1).
pub const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// The emulator, the registry, and the files the commands read.
pub struct ImageEnv {
    pub scratch: super::Scratch,
    pub registry: Registry,
}

impl ImageEnv {
    /// The emulator and a registry standing in for Docker Hub (all of it)
    /// and for the account's ECR registry.
    pub fn new() -> ImageEnv {
        let scratch = super::Scratch::new();
        let registry = Registry::start();
        let host = registry.host();
        scratch.write(
            "registries.conf",
            &format!(
                "[[registry]]\nprefix = \"docker.io\"\nlocation = \"{host}\"\ninsecure = true\n\n\
                 [[registry]]\nprefix = \"{ECR}\"\nlocation = \"{host}\"\ninsecure = true\n"
            ),
        );
        ImageEnv { scratch, registry }
    }

    pub fn host(&self) -> String {
        self.registry.host()
    }

    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.scratch.command(args);
        cmd.env(
            "CONTAINERS_REGISTRIES_CONF",
            self.scratch.path().join("registries.conf"),
        )
        .env(
            "SCAR_SUPERVISOR",
            testkit::static_supervisor(Path::new(env!("CARGO_BIN_EXE_scar"))),
        )
        // No Docker logins of the machine running the tests.
        .env("DOCKER_CONFIG", self.scratch.path().join("docker"));
        cmd
    }

    pub fn expect(&self, code: i32, args: &[&str]) -> std::process::Output {
        let o = self.command(args).output().expect("run scar");
        assert_eq!(
            o.status.code(),
            Some(code),
            "scar {args:?}:\n{}",
            super::out(&o)
        );
        o
    }

    pub fn ok(&self, args: &[&str]) -> std::process::Output {
        self.expect(0, args)
    }

    /// Pushes a base of `layers` synthetic layers (seeded) as
    /// `grycap/<name>:<tag>`; its manifest digest.
    pub fn push_base(&self, name: &str, tag: &str, seed: u64, layers: usize) -> String {
        self.push_image(&format!("grycap/{name}"), tag, seed, layers)
    }

    /// Pushes a base of `layers` synthetic layers (seeded) as
    /// `<repository>:<tag>` in the registry; its manifest digest.
    pub fn push_image(&self, repository: &str, tag: &str, seed: u64, layers: usize) -> String {
        let img = Image {
            layers: (0..layers as u64)
                .map(|i| image::random_layer(seed + i, &format!("data-{}", seed + i), 4096))
                .collect(),
            run: json!({"Env": ["PATH=/usr/bin:/bin", "BASE=1"], "Cmd": ["/bin/sh"]}),
            arch: "amd64".into(),
        };
        image::push(&self.host(), repository, tag, &img).0
    }
}
