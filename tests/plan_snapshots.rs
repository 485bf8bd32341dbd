//! The safety net of the resource-kind refactor (issue 9): snapshots of the
//! text and JSON plans for a matrix of scenarios on the in-memory cloud —
//! create from nothing, no changes, an in-place update, a replacement, a
//! delete, blocked changes (a foreign resource, another workflow's), a
//! kept bucket that holds objects, a foreign notification entry and a code
//! update with its script diff. A refactor keeps them byte-identical; a
//! snapshot that changes is explained in its commit.
//!
//! JSON plans are rendered with a fixed salt, so that their (salted)
//! fingerprints are repeatable.

use std::path::Path;
use std::sync::Arc;

use scar::apply::{self, Event};
use scar::cloud::memory::MemoryCloud;
use scar::cloud::{IamApi, LambdaApi, LambdaNotification, PermissionStatement, S3Api, Tags};
use scar::manifest::{self, Manifest};
use scar::pipeline::{plan_workflow_in, Planned};
use scar::render;

const LAYER: &[u8] = b"stand-in layer zip: the in-memory cloud never runs code";

/// Two functions, one triggered by `snap-in/photos`, both writing to
/// `snap-out`; `thumbs` runs `thumbs.sh`.
const MANIFEST: &str = r#"workflow: snap
functions:
  aws:
  - lambda:
      name: snap-thumbs
      memory: 256
      init_script: thumbs.sh
      environment:
        Variables:
          MODE: fast
          API_TOKEN: not-shown
      input:
      - storage_provider: s3
        path: snap-in/photos
      output:
      - storage_provider: s3
        path: snap-out/thumbs
  - lambda:
      name: snap-index
      input:
      - storage_provider: s3
        path: snap-in/docs
      output:
      - storage_provider: s3
        path: snap-out/index
"#;

const SCRIPT: &str = "#!/bin/sh\nset -e\nconvert \"$INPUT_FILE_PATH\" -resize 64x64 \"$TMP_OUTPUT_DIR/t.png\"\necho done\n";

struct Case {
    dir: tempfile::TempDir,
    cloud: Arc<MemoryCloud>,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thumbs.sh"), SCRIPT).unwrap();
        std::fs::write(dir.path().join("scar.yaml"), MANIFEST).unwrap();
        Case {
            dir,
            cloud: Arc::new(MemoryCloud::new()),
        }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    fn edit(&self, from: &str, to: &str) {
        let p = self.path("scar.yaml");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{from:?} not in the manifest");
        std::fs::write(&p, text.replace(from, to)).unwrap();
    }

    fn manifest(&self) -> Manifest {
        load(&self.path("scar.yaml"))
    }

    /// A plan with a package cache in the case's folder (so code updates
    /// show their script diff).
    async fn plan(&self, destroy: bool) -> Planned {
        let cache = scar::package::Cache::new(self.path("cache"));
        plan_workflow_in(
            self.cloud.clone(),
            &self.manifest(),
            Some(LAYER.to_vec()),
            destroy,
            Some(&cache),
        )
        .await
        .unwrap()
    }

    async fn apply(&self) {
        let p = self.plan(false).await;
        let quiet: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|_| {});
        let results =
            apply::apply(self.cloud.clone(), &p.plan, p.artifacts.clone(), 4, quiet).await;
        assert!(
            results.iter().all(|r| r.2 == apply::Outcome::Done),
            "{results:?}"
        );
        assert!(!self.plan(false).await.plan.has_changes());
    }
}

fn load(path: &Path) -> Manifest {
    let loaded = manifest::load(&[path.to_path_buf()]);
    assert_eq!(loaded.error_count(), 0, "{:#?}", loaded.diagnostics);
    loaded.manifest.unwrap()
}

/// Snapshots the text and the JSON plan of `p` under `name`.
fn snapshot(name: &str, p: &Planned) {
    insta::assert_snapshot!(format!("{name}.text"), render::text::render(&p.plan));
    let doc = render::json::to_doc_salted(&p.plan, "fixed-test-salt");
    insta::assert_snapshot!(
        format!("{name}.json"),
        serde_json::to_string_pretty(&doc).unwrap()
    );
}

#[tokio::test]
async fn create_from_nothing() {
    let c = Case::new();
    snapshot("create", &c.plan(false).await);
}

#[tokio::test]
async fn no_changes() {
    let c = Case::new();
    c.apply().await;
    snapshot("no_changes", &c.plan(false).await);
}

#[tokio::test]
async fn in_place_update() {
    let c = Case::new();
    c.apply().await;
    c.edit("memory: 256", "memory: 1024");
    c.edit("MODE: fast", "MODE: slow");
    snapshot("update", &c.plan(false).await);
}

#[tokio::test]
async fn replacement_of_a_permission_changed_behind_scars_back() {
    let c = Case::new();
    c.apply().await;
    // The statement now names another source account: it cannot change in
    // place, so it is replaced.
    let sid = "scar-s3-snap-in";
    c.cloud.remove_permission("snap-thumbs", sid).await.unwrap();
    let s = PermissionStatement {
        sid: sid.into(),
        principal: "s3.amazonaws.com".into(),
        action: "lambda:InvokeFunction".into(),
        source_arn: Some("arn:aws:s3:::snap-in".into()),
        source_account: Some("210987654321".into()),
    };
    c.cloud.add_permission("snap-thumbs", &s).await.unwrap();
    snapshot("replace", &c.plan(false).await);
}

#[tokio::test]
async fn delete_of_a_removed_function() {
    let c = Case::new();
    c.apply().await;
    let text = std::fs::read_to_string(c.path("scar.yaml")).unwrap();
    let cut = text.find("  - lambda:\n      name: snap-index").unwrap();
    std::fs::write(c.path("scar.yaml"), &text[..cut]).unwrap();
    snapshot("delete", &c.plan(false).await);
}

#[tokio::test]
async fn blocked_by_a_foreign_function_and_another_workflows_role() {
    let c = Case::new();
    // A function of that name made by hand, and the role scar would
    // create tagged by another workflow.
    c.cloud.create_function_by_hand("snap-index").await;
    let tags = Tags::from([
        ("scar:managed".to_string(), "true".to_string()),
        ("scar:workflow".to_string(), "other".to_string()),
    ]);
    c.cloud.create_role("scar-snap", "{}", &tags).await.unwrap();
    snapshot("blocked", &c.plan(false).await);
}

#[tokio::test]
async fn destroy_keeps_a_bucket_that_holds_objects() {
    let c = Case::new();
    c.apply().await;
    c.cloud
        .put_object("snap-out", "thumbs/x.png", b"png")
        .await
        .unwrap();
    snapshot("destroy_kept_bucket", &c.plan(true).await);
}

#[tokio::test]
async fn a_foreign_notification_entry_is_left_alone() {
    let c = Case::new();
    c.apply().await;
    let mut config = c.cloud.get_notifications("snap-in").await.unwrap();
    config.lambda.push(LambdaNotification {
        id: "someone-elses".into(),
        // Another account's function: S3 does not check it here.
        function_arn: "arn:aws:lambda:us-east-1:210987654321:function:theirs".into(),
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: Some("other/".into()),
        suffix: None,
    });
    c.cloud.put_notifications("snap-in", &config).await.unwrap();
    snapshot("foreign_entry", &c.plan(false).await);
    snapshot("foreign_entry_destroy", &c.plan(true).await);
}

#[tokio::test]
async fn a_code_update_shows_its_script_diff() {
    let c = Case::new();
    c.apply().await;
    std::fs::write(c.path("thumbs.sh"), SCRIPT.replace("64x64", "128x128")).unwrap();
    snapshot("code_update", &c.plan(false).await);
}
