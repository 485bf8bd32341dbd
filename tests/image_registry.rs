//! The function image against a real OCI registry (Debian's
//! `docker-registry` on 127.0.0.1): a base image is pushed under a Docker
//! Hub name that `registries.conf` maps to the local registry, scar
//! resolves it, appends its layer and pushes the function image; what the
//! registry then holds is read back with `oci-client` directly (not
//! through scar's code).

use std::collections::BTreeMap;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use scar::image::assemble::{
    self, derive_config, derive_manifest, write_layer, Descriptor, LayerFile,
};
use scar::image::reference::ImageRef;
use scar::image::registries::RegistriesConf;
use scar::image::registry::{Registries, RegistryError};
use serde_json::{json, Value};
use testkit::registry::Registry;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn client(host: &str) -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![host.to_string()]),
        use_monolithic_push: true,
        ..Default::default()
    })
}

/// Pushes a base image of `layers` (seeds, sizes) to `host/repo:tag`,
/// with oci-client alone (`testkit::image`); returns its manifest digest.
async fn push_base(host: &str, repo: &str, tag: &str, layers: &[(u64, usize)]) -> String {
    let img = testkit::image::Image {
        layers: layers
            .iter()
            .map(|(seed, size)| testkit::image::random_layer(*seed, &format!("data-{seed}"), *size))
            .collect(),
        run: json!({"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]}),
        arch: "amd64".into(),
    };
    testkit::image::push(host, repo, tag, &img).0
}

/// `registries.conf` mapping Docker Hub's `grycap/` and the stand-in ECR
/// host to the local registry, all plain HTTP.
fn conf(host: &str, ecr_host: &str) -> RegistriesConf {
    let text = format!(
        "[[registry]]\nprefix = \"docker.io/grycap\"\nlocation = \"{host}/grycap\"\ninsecure = true\n\n\
         [[registry]]\nprefix = \"{ecr_host}\"\nlocation = \"{ecr_host}\"\ninsecure = true\n\n\
         [[registry]]\nprefix = \"{host}\"\nlocation = \"{host}\"\ninsecure = true\n"
    );
    RegistriesConf::parse(std::path::Path::new("registries.conf"), &text).unwrap()
}

struct Built {
    dir: tempfile::TempDir,
    layer: assemble::Layer,
    config: Vec<u8>,
    manifest: Vec<u8>,
}

fn build(base: &scar::image::registry::BaseImage, script: &str) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layer.tar.gz");
    let file = std::fs::File::create(&path).unwrap();
    let layer = write_layer(
        vec![
            LayerFile::bytes("supervisor", 0o755, b"\x7fELF stand-in"),
            LayerFile::bytes("function_config.yaml", 0o644, b"name: f\n"),
            LayerFile::bytes("script.sh", 0o755, script.as_bytes()),
        ],
        file,
    )
    .unwrap();
    let config = derive_config(&base.config, &layer, &BTreeMap::new(), &BTreeMap::new()).unwrap();
    let manifest = derive_manifest(
        &base.manifest,
        &Descriptor::of(&base.config_descriptor.media_type, &config),
        &layer,
    )
    .unwrap();
    Built {
        dir,
        layer,
        config,
        manifest,
    }
}

async fn push(
    registries: &Registries,
    dest: &ImageRef,
    base: &scar::image::registry::BaseImage,
    b: &Built,
) -> scar::image::registry::PushReport {
    registries
        .push(
            dest,
            base,
            &b.dir.path().join("layer.tar.gz"),
            &b.layer,
            &b.config,
            &b.manifest,
            None,
        )
        .await
        .unwrap()
}

/// The manifest the registry holds at `repo@digest`, read back.
async fn read_back(host: &str, repo: &str, digest: &str) -> Value {
    let c = client(host);
    let r = Reference::with_digest(host.into(), repo.into(), digest.into());
    let (bytes, got) = c
        .pull_manifest_raw(&r, &RegistryAuth::Anonymous, &[MANIFEST])
        .await
        .unwrap();
    assert_eq!(got, digest);
    serde_json::from_slice(&bytes).unwrap()
}

#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[tokio::test]
async fn the_function_image_is_the_base_plus_one_layer_and_only_what_changed_is_sent() {
    let registry = Registry::start();
    let host = registry.host();
    let base_digest = push_base(
        &host,
        "grycap/imagemagick",
        "latest",
        &[(1, 300_000), (2, 200_000)],
    )
    .await;
    let registries = Registries::new(conf(&host, &host));

    // The Docker Hub name resolves, through registries.conf, to the local copy.
    let base = registries
        .resolve(&ImageRef::parse("grycap/imagemagick").unwrap(), "x86_64")
        .await
        .unwrap();
    assert_eq!(base.digest, base_digest);
    assert_eq!(base.layers.len(), 2);
    let base_bytes: u64 = base.layers.iter().map(|l| l.size).sum();

    // First push into the same registry: the base's layers are mounted.
    let dest = ImageRef::parse(&format!("{host}/scar-fn")).unwrap();
    let first = build(&base, "echo one\n");
    let report = push(&registries, &dest, &base, &first).await;
    assert_eq!((report.mounted, report.skipped), (2, 0), "{report:?}");
    assert_eq!(
        report.uploaded, 2,
        "the new layer and the config: {report:?}"
    );
    let m = read_back(&host, "scar-fn", &report.digest).await;
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3, "exactly one layer on top of the base's");
    assert_eq!(layers[2]["digest"], first.layer.digest);
    for (i, l) in base.layers.iter().enumerate() {
        assert_eq!(layers[i]["digest"], l.digest);
    }
    assert!(registries
        .has_manifest(&dest, &report.digest)
        .await
        .unwrap());

    // The same inputs again: same digest, nothing but the manifest sent.
    let again = build(&base, "echo one\n");
    assert_eq!(again.manifest, first.manifest, "reproducible");
    let report2 = push(&registries, &dest, &base, &again).await;
    assert_eq!(report2.digest, report.digest);
    assert_eq!((report2.uploaded, report2.skipped), (0, 4), "{report2:?}");

    // A script change: a new digest; only the new layer, config and manifest go.
    let changed = build(&base, "echo two\n");
    let report3 = push(&registries, &dest, &base, &changed).await;
    assert_ne!(report3.digest, report.digest);
    assert_eq!((report3.uploaded, report3.skipped), (2, 2), "{report3:?}");
    assert!(
        report3.bytes_sent * 100 < base_bytes,
        "sent {} bytes for a script change on a {base_bytes}-byte base",
        report3.bytes_sent
    );
}

#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[tokio::test]
async fn into_another_registry_the_bases_layers_are_streamed_across() {
    let source = Registry::start();
    let target = Registry::start();
    push_base(
        &source.host(),
        "grycap/ffmpeg",
        "4.1",
        &[(3, 250_000), (4, 150_000)],
    )
    .await;
    let registries = Registries::new(conf(&source.host(), &target.host()));
    let base = registries
        .resolve(&ImageRef::parse("grycap/ffmpeg:4.1").unwrap(), "x86_64")
        .await
        .unwrap();
    let dest = ImageRef::parse(&format!("{}/fn", target.host())).unwrap();
    let built = build(&base, "ffmpeg -version\n");
    let report = push(&registries, &dest, &base, &built).await;
    assert_eq!((report.uploaded, report.mounted), (4, 0), "{report:?}");
    let base_bytes: u64 = base.layers.iter().map(|l| l.size).sum();
    assert!(report.bytes_sent >= base_bytes, "{report:?}");
    let m = read_back(&target.host(), "fn", &report.digest).await;
    assert_eq!(m["layers"].as_array().unwrap().len(), 3);
}

#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[tokio::test]
async fn an_index_without_the_functions_platform_is_refused_listing_what_it_has() {
    let registry = Registry::start();
    let host = registry.host();
    let arm = push_base(&host, "grycap/armonly", "arm", &[(5, 1000)]).await;
    let c = client(&host);
    let r = Reference::with_tag(host.clone(), "grycap/armonly".into(), "latest".into());
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": MANIFEST, "digest": arm, "size": 1,
                       "platform": {"os": "linux", "architecture": "arm64"}}],
    }))
    .unwrap();
    c.push_manifest_raw(
        &r,
        index,
        "application/vnd.oci.image.index.v1+json".parse().unwrap(),
    )
    .await
    .unwrap();
    let registries = Registries::new(conf(&host, &host));
    let image = ImageRef::parse("grycap/armonly").unwrap();
    let e = registries.resolve(&image, "x86_64").await.unwrap_err();
    assert!(matches!(e, RegistryError::NoPlatform { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("linux/amd64") && text.contains("it has: linux/arm64"),
        "{text}"
    );
    // The arm64 function gets the arm64 image from the same index.
    let base = registries.resolve(&image, "arm64").await.unwrap();
    assert_eq!(base.digest, arm);

    // An unknown image is an error naming it.
    let e = registries
        .resolve(&ImageRef::parse("grycap/nothing-here").unwrap(), "x86_64")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("grycap/nothing-here"), "{e}");
}
