//! `ecr_repository`: the ECR repository a function's image is pushed to,
//! one per function that builds an image (as SCAR does), named after the
//! function ([`repository_name`]). It holds images, so it is deleted only
//! when every image in it is one scar pushed ([`is_scar_image`]: tagged
//! `scar-<hex of its own digest>`), and then with them; otherwise it is
//! kept, with why. Observed with one DescribeRepositories listing (1000 a
//! page), the tags of the wanted ones the tagging API did not give, each
//! one's lifecycle policy, and ListImages only for one that may be deleted.
//!
//! Choices, and why:
//! - tag mutability `MUTABLE`: functions run their image by digest, so a
//!   tag cannot change what runs; scar's own tags are derived from the
//!   digest and checked against it; and a mutable repository keeps a
//!   re-push of a tag (SCAR's `latest`) working instead of failing.
//! - `scan_on_push` false: no manifest key asks for it yet.
//! - the lifecycle policy expires only *untagged* images, 14 days after
//!   their push: every image scar pushes carries its `scar-<digest>` tag,
//!   so no image a function of the workflow runs is ever expired. It does
//!   not expire scar's older images: that needs the digests the functions
//!   use, which the plan does not know yet (the `function_image` kind).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::support::{
    check_owner, found_or_conflict, observed_tagged, parse_json, scar_tags, wanted,
};
use super::{Desire, Found, KindRules, Observation, Outputs, PlanContext, Removal, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{
    Cloud, CloudError, ErrorKind, ImageState, RepositorySpec, RepositoryState, Tags,
};
use crate::manifest::FunctionDef;
use crate::model::{owner_of, Action, Addr, DesiredState, Kind, Observed, Owner};

pub struct EcrRepository;

/// A repository's attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepositoryAttrs {
    /// `MUTABLE` or `IMMUTABLE`.
    pub image_tag_mutability: String,
    pub scan_on_push: bool,
    /// The lifecycle policy document (`null`: none).
    pub lifecycle_policy: Value,
    pub tags: Tags,
}

/// The tag mutability scar asks for (see the module's notes).
pub const IMAGE_TAG_MUTABILITY: &str = "MUTABLE";

/// Days after which the lifecycle policy expires an untagged image.
pub const UNTAGGED_EXPIRY_DAYS: u32 = 14;

/// The tag on a repository naming the function it holds the images of (so
/// that a repository no longer wanted is deleted after its function).
pub const TAG_FUNCTION: &str = "scar:function";

/// The images of a repository that may be deleted that scar did not push
/// (an observed fact: a list of descriptions); such a repository is kept.
const FACT_FOREIGN_IMAGES: &str = "foreign_images";

/// How many foreign images a reason names before it says "and N more".
const NAMED_IMAGES: usize = 3;

impl KindRules for EcrRepository {
    fn protected(&self, m: &crate::manifest::Manifest) -> Vec<Addr> {
        m.functions
            .iter()
            .filter(|f| f.spec.ecr.prevent_destroy)
            .map(|f| addr(&repository_name(f.name())))
            .collect()
    }

    fn unmanaged(&self) -> Found {
        Found::Block("exists and scar did not create it (SCAR's or made by hand): scar never pushes into a repository it does not own; delete it, or use its image as is with `container.image: <its URI>` and `create_image: false`".into())
    }

    fn removal(&self, have: &Observed, ctx: &PlanContext) -> Removal {
        let foreign: Vec<&str> = have
            .facts
            .get(FACT_FOREIGN_IMAGES)
            .and_then(Value::as_array)
            .map(|u| u.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !foreign.is_empty() {
            let mut named = foreign[..foreign.len().min(NAMED_IMAGES)].join(", ");
            if foreign.len() > NAMED_IMAGES {
                named.push_str(&format!(" and {} more", foreign.len() - NAMED_IMAGES));
            }
            return Removal::Keep(format!(
                "no longer in the manifests, but it holds images scar did not push ({named}): kept (delete them, or the repository, by hand)"
            ));
        }
        // After the function whose images it holds, if that goes too.
        let after = have
            .attrs
            .get("tags")
            .and_then(|t| t.get(TAG_FUNCTION))
            .and_then(Value::as_str)
            .map(|f| Addr::new(Kind::LambdaFunction, f))
            .filter(|f| {
                ctx.observed.resources.contains_key(f) && !ctx.desired.resources.contains_key(f)
            })
            .into_iter()
            .collect();
        Removal::Delete {
            reason: "owned by this workflow and no longer in the manifests (it holds only images scar pushed: deleted with them)".into(),
            after,
        }
    }

    fn tagged_in(&self) -> Option<&'static str> {
        Some("ecr")
    }
}

/// A repository's address.
pub fn addr(repository: &str) -> Addr {
    Addr::new(Kind::EcrRepository, repository)
}

/// The repository of a function's images: the function's name when it is a
/// valid repository name (as SCAR names it). Otherwise a valid one made
/// from it, the same every time and distinct for distinct functions:
/// lowercased, each run of `-`/`_` kept as its first character, separators
/// at the ends dropped, then `-` and the first 8 hex digits of the SHA-256
/// of the function's name (so `Resize` and `resize` do not share one).
pub fn repository_name(function: &str) -> String {
    if crate::cloud::valid_repository_name(function) {
        return function.to_string();
    }
    let mut base = String::new();
    for c in function.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            base.push(c);
        } else if !base.is_empty() && !base.ends_with(['-', '_']) {
            // Lambda names hold only letters, digits, `-` and `_`; anything
            // else is a separator too.
            base.push(if c == '_' { '_' } else { '-' });
        }
    }
    let base = base.trim_end_matches(['-', '_']);
    let hash = crate::hash::hex_sha256(function.as_bytes());
    if base.is_empty() {
        format!("scar-{}", &hash[..8])
    } else {
        format!("{base}-{}", &hash[..8])
    }
}

/// The tag scar puts on every image it pushes: `scar-` and the hex of the
/// image's own digest (`sha256:ab…` gives `scar-ab…`, 69 characters).
pub fn scar_image_tag(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    format!("scar-{hex}")
}

/// Whether scar pushed an image: it carries the tag of its own digest.
pub fn is_scar_image(image: &ImageState) -> bool {
    image.tags.contains(&scar_image_tag(&image.digest))
}

/// The lifecycle policy scar sets (see the module's notes).
pub fn lifecycle_policy() -> Value {
    json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("scar: expire untagged images {UNTAGGED_EXPIRY_DAYS} days after their push (every image scar pushes is tagged scar-<digest>)"),
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": UNTAGGED_EXPIRY_DAYS,
            },
            "action": {"type": "expire"},
        }]
    })
}

/// Whether scar builds an image for a function (and so wants its
/// repository): it names a `container.image_file`, or a `container.image`
/// unless that is an ECR image
/// used as is (SCAR's rule: `.dkr.ecr.` in the name and `create_image` not
/// `true`).
pub fn builds_image(f: &FunctionDef) -> bool {
    let c = &f.spec.lambda.container;
    if c.image_file.is_some() {
        return true;
    }
    match c.image.as_deref() {
        None => false,
        Some(image) => !(image.contains(".dkr.ecr.") && c.create_image != Some(true)),
    }
}

/// One repository for each function scar builds an image for.
pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in d.functions.iter().filter(|f| builds_image(f)) {
        let mut tags = d.ownership_tags();
        tags.insert(TAG_FUNCTION.to_string(), f.name().to_string());
        let attrs = RepositoryAttrs {
            image_tag_mutability: IMAGE_TAG_MUTABILITY.to_string(),
            scan_on_push: false,
            lifecycle_policy: lifecycle_policy(),
            tags,
        };
        out.add(wanted(addr(&repository_name(f.name())), &attrs));
    }
}

/// The outputs other resources reference: `arn` and `uri`.
fn outputs(arn: &str, uri: &str) -> Outputs {
    BTreeMap::from([
        ("arn".to_string(), arn.to_string()),
        ("uri".to_string(), uri.to_string()),
    ])
}

/// What one repository's observation found.
struct Seen {
    repo: RepositoryState,
    tags: Option<Tags>,
    policy: Option<String>,
    foreign: Vec<String>,
}

/// An image as a reason names it: its tags, else its digest.
fn describe(image: &ImageState) -> String {
    if image.tags.is_empty() {
        format!("untagged {}", image.digest)
    } else {
        image.tags.join("/")
    }
}

/// The repositories wanted, those the tagging API says the workflow owns,
/// and those of the image functions the workflow owns (observed before: the
/// tagging API may lag behind, and moto's leaves ECR out), whose tags then
/// say whose they are.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let wanted = o.wanted(Kind::EcrRepository);
    let of_functions: BTreeSet<String> = super::lambda_function::owned_images(&o.out)
        .iter()
        .map(|f| repository_name(f))
        .collect();
    let owned: BTreeMap<String, Tags> = o
        .tagged
        .iter()
        .filter(|(arn, _)| arn.contains(":ecr:"))
        .filter_map(|(arn, tags)| {
            arn.split_once(":repository/")
                .map(|(_, n)| (n.to_string(), tags.clone()))
        })
        .collect();
    // Nothing to look at: no request (most workflows run no image).
    if wanted.is_empty() && owned.is_empty() && of_functions.is_empty() {
        return Ok(());
    }
    let names: BTreeSet<&String> = wanted
        .iter()
        .chain(owned.keys())
        .chain(&of_functions)
        .collect();
    let repos = o.cloud.list_repositories().await?;
    let mut tasks = JoinSet::new();
    for repo in repos.into_iter().filter(|r| names.contains(&r.name)) {
        let cloud = o.cloud.clone();
        let limit = o.limit.clone();
        let known = owned.get(&repo.name).cloned();
        let delete_candidate = !wanted.contains(&repo.name);
        let workflow = o.workflow.to_string();
        tasks.spawn(async move {
            let _p = limit.acquire_owned().await;
            // Not tagged by this workflow: its tags tell another
            // workflow's from one scar does not manage.
            let tags = match known {
                Some(t) => Some(t),
                None => {
                    let read = cloud.repository_tags(&repo.name).await?;
                    (!read.is_empty()).then_some(read)
                }
            };
            let policy = cloud.lifecycle_policy(&repo.name).await?;
            let mut foreign = Vec::new();
            if delete_candidate && owner_of(tags.as_ref(), &workflow) == Owner::Workflow {
                let images = cloud.list_images(&repo.name).await?;
                foreign.extend(images.iter().filter(|i| !is_scar_image(i)).map(describe));
            }
            Ok::<_, CloudError>(Seen {
                repo,
                tags,
                policy,
                foreign,
            })
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok(seen) = joined else { continue };
        let seen = seen?;
        let attrs = RepositoryAttrs {
            image_tag_mutability: seen.repo.image_tag_mutability.clone(),
            scan_on_push: seen.repo.scan_on_push,
            lifecycle_policy: seen.policy.as_deref().map_or(Value::Null, parse_json),
            tags: scar_tags(seen.tags.as_ref()),
        };
        let mut found = observed_tagged(
            addr(&seen.repo.name),
            &attrs,
            owner_of(seen.tags.as_ref(), o.workflow),
            seen.tags.as_ref(),
        );
        found.outputs = outputs(&seen.repo.arn, &seen.repo.uri);
        if !seen.foreign.is_empty() {
            found
                .facts
                .insert(FACT_FOREIGN_IMAGES.to_string(), json!(seen.foreign));
        }
        o.insert(found);
    }
    Ok(())
}

/// Deleted with its images only if it still holds nothing but scar's
/// (checked again: someone may have pushed since the plan).
pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let name = s.addr.name.as_str();
    let images = match retry(|| cloud.list_images(name)).await {
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    let foreign: Vec<String> = images
        .iter()
        .filter(|i| !is_scar_image(i))
        .map(describe)
        .collect();
    if !foreign.is_empty() {
        tracing::warn!(
            "repository {name} holds images scar did not push now ({}): kept",
            foreign.join(", ")
        );
        return Ok(());
    }
    // Force only when it holds images, and those are all scar's.
    retry(|| cloud.delete_repository(name, !images.is_empty())).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: RepositoryAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let policy = want.lifecycle_policy.to_string();
    if s.action == Action::Update {
        // It exists (the plan saw it): write only what differs.
        if s.differs("tags") {
            retry(|| cloud.tag_repository(name, &want.tags)).await?;
        }
        if s.differs("image_tag_mutability") {
            retry(|| cloud.put_image_tag_mutability(name, &want.image_tag_mutability)).await?;
        }
        if s.differs("scan_on_push") {
            retry(|| cloud.put_scan_on_push(name, want.scan_on_push)).await?;
        }
        if s.differs("lifecycle_policy") {
            retry(|| cloud.put_lifecycle_policy(name, &policy)).await?;
        }
        return Ok(s.observed.clone());
    }
    let spec = RepositorySpec {
        name: name.to_string(),
        image_tag_mutability: want.image_tag_mutability.clone(),
        scan_on_push: want.scan_on_push,
        tags: want.tags.clone(),
    };
    // "Already exists" is an answer here, not something to retry.
    let repo = match retry_throttled(|| cloud.create_repository(&spec)).await {
        Ok(r) => r,
        Err(e) if found_or_conflict(&e) => {
            let found = retry(|| cloud.list_repositories())
                .await?
                .into_iter()
                .find(|r| r.name == name);
            match found {
                // An earlier run of this workflow created it: bring it in
                // line; anyone else's is left alone.
                Some(r) => {
                    let tags = retry(|| cloud.repository_tags(name)).await?;
                    check_owner(s.addr, Some(&tags), s.workflow)?;
                    retry(|| cloud.tag_repository(name, &want.tags)).await?;
                    if r.image_tag_mutability != want.image_tag_mutability {
                        retry(|| cloud.put_image_tag_mutability(name, &want.image_tag_mutability))
                            .await?;
                    }
                    if r.scan_on_push != want.scan_on_push {
                        retry(|| cloud.put_scan_on_push(name, want.scan_on_push)).await?;
                    }
                    r
                }
                // Gone again meanwhile (it was being deleted): create it.
                None => retry(|| cloud.create_repository(&spec)).await?,
            }
        }
        Err(e) => return Err(e),
    };
    retry(|| cloud.put_lifecycle_policy(name, &policy)).await?;
    Ok(outputs(&repo.arn, &repo.uri))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::apply::{apply, Event, Outcome};
    use crate::cloud::memory::MemoryCloud;
    use crate::cloud::{valid_repository_name, EcrApi};
    use crate::manifest::{load_texts, Manifest};
    use crate::model::ownership_tags;
    use crate::plan::{plan, Plan};
    use crate::resources::Context;

    /// Five functions: two images scar builds (one with a name ECR refuses),
    /// an ECR image used as is, an ECR image scar is asked to build on, and
    /// a script function without an image.
    const MANIFEST: &str = "workflow: wf
functions:
  aws:
  - lambda:
      name: cowsay
      container:
        image: grycap/cowsay
  - lambda:
      name: Resize_Images
      container:
        image: docker.io/library/alpine:3.20
  - lambda:
      name: prebuilt
      container:
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1
  - lambda:
      name: rebuilt
      container:
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1
        create_image: true
  - lambda:
      name: script
";

    fn manifest(text: &str) -> Manifest {
        load_texts(&[("m.yaml", text)])
            .manifest
            .expect("a valid manifest")
    }

    fn ctx() -> Context {
        Context::for_tests()
    }

    /// The repositories `workflow` wants for the manifest's functions,
    /// asked of this kind alone (image functions are still set aside by
    /// `desired`, so the whole pipeline would want none).
    fn desired(m: &Manifest, workflow: &str) -> DesiredState {
        let functions: Vec<&FunctionDef> = m.functions.iter().collect();
        let ctx = ctx();
        let d = Desire {
            workflow,
            functions: &functions,
            ctx: &ctx,
        };
        let mut out = DesiredState {
            workflow: workflow.to_string(),
            ..Default::default()
        };
        desire(&d, &mut out);
        out
    }

    /// Nothing wanted: the plan deletes what the workflow owns.
    fn destroyed(workflow: &str) -> DesiredState {
        DesiredState {
            workflow: workflow.to_string(),
            ..Default::default()
        }
    }

    async fn plan_for(cloud: &Arc<MemoryCloud>, d: &DesiredState) -> Plan {
        let o = crate::observe::observe(cloud.clone(), d)
            .await
            .expect("observe");
        plan(d, &o)
    }

    async fn run(cloud: &Arc<MemoryCloud>, p: &Plan) -> BTreeMap<String, Outcome> {
        let quiet: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|_| {});
        apply(cloud.clone(), p, Arc::default(), 4, quiet)
            .await
            .into_iter()
            .map(|(a, _, o)| (a.to_string(), o))
            .collect()
    }

    fn change<'a>(p: &'a Plan, name: &str) -> &'a crate::plan::Change {
        p.changes
            .iter()
            .find(|c| c.address == addr(name))
            .unwrap_or_else(|| panic!("no change for {name}: {p:#?}"))
    }

    async fn repository(cloud: &MemoryCloud, name: &str) -> Option<RepositoryState> {
        cloud
            .list_repositories()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.name == name)
    }

    /// A minimal image manifest, distinct per `seed`.
    fn image_manifest(seed: &str) -> String {
        json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": format!("sha256:{}", crate::hash::hex_sha256(seed.as_bytes()))},
            "layers": [],
        })
        .to_string()
    }

    /// Pushes an image as scar does: tagged with its own digest.
    async fn push_as_scar(cloud: &MemoryCloud, repo: &str, seed: &str) -> String {
        let m = image_manifest(seed);
        let digest = format!("sha256:{}", crate::hash::hex_sha256(m.as_bytes()));
        let tag = scar_image_tag(&digest);
        cloud
            .put_image(
                repo,
                &m,
                "application/vnd.oci.image.manifest.v1+json",
                Some(&tag),
            )
            .await
            .unwrap()
    }

    #[test]
    fn one_repository_for_each_function_scar_builds_an_image_for() {
        let d = desired(&manifest(MANIFEST), "wf");
        let names: Vec<&str> = d.resources.keys().map(|a| a.name.as_str()).collect();
        let resize = repository_name("Resize_Images");
        let mut expected = vec!["cowsay", "rebuilt", resize.as_str()];
        expected.sort();
        assert_eq!(
            names, expected,
            "no repository for an ECR image used as is or a script"
        );
        let cowsay = &d.resources[&addr("cowsay")].attrs;
        let mut tags = ownership_tags("wf");
        tags.insert(TAG_FUNCTION.into(), "cowsay".into());
        assert_eq!(cowsay["tags"], json!(tags));
        assert_eq!(cowsay["image_tag_mutability"], "MUTABLE");
        assert_eq!(cowsay["scan_on_push"], false);
        let rule = &cowsay["lifecycle_policy"]["rules"][0];
        assert_eq!(rule["selection"]["tagStatus"], "untagged");
        assert_eq!(rule["selection"]["countNumber"], UNTAGGED_EXPIRY_DAYS);
        assert_eq!(
            d.resources[&addr(&resize)].attrs["tags"][TAG_FUNCTION],
            "Resize_Images"
        );
    }

    #[test]
    fn a_function_name_ecr_refuses_gets_a_stable_valid_distinct_name() {
        assert_eq!(repository_name("cowsay"), "cowsay");
        assert_eq!(repository_name("a-b_c"), "a-b_c");
        let samples = [
            "Resize",
            "resize-images",
            "a",
            "A",
            "a__b--c",
            "-x-",
            "_",
            "X".repeat(64).as_str(),
        ]
        .map(str::to_string);
        for f in &samples {
            let r = repository_name(f);
            assert!(valid_repository_name(&r), "{f} -> {r}");
            assert_eq!(r, repository_name(f), "stable");
        }
        assert!(repository_name("Resize").starts_with("resize-"));
        assert_ne!(repository_name("Resize"), repository_name("resize"));
        assert_ne!(repository_name("A"), repository_name("a"));
        assert!(repository_name("a__b--c").starts_with("a_b-c-"));
    }

    #[test]
    fn scar_images_are_those_tagged_with_their_own_digest() {
        let d = format!("sha256:{}", "0a".repeat(32));
        let tag = scar_image_tag(&d);
        assert_eq!(tag.len(), 69);
        let mine = ImageState {
            digest: d.clone(),
            tags: vec![tag, "latest".into()],
        };
        assert!(is_scar_image(&mine));
        let other = format!("sha256:{}", "0b".repeat(32));
        let retagged = ImageState {
            digest: other,
            tags: vec![scar_image_tag(&d)],
        };
        assert!(!is_scar_image(&retagged), "a scar tag of another digest");
        assert!(!is_scar_image(&ImageState {
            digest: d,
            tags: vec![]
        }));
    }

    #[tokio::test]
    async fn create_apply_and_plan_again_changes_nothing() {
        let cloud = Arc::new(MemoryCloud::new());
        let d = desired(&manifest(MANIFEST), "wf");
        let p = plan_for(&cloud, &d).await;
        assert_eq!(change(&p, "cowsay").action, Action::Create);
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let r = repository(&cloud, "cowsay").await.expect("created");
        assert_eq!(r.uri, "123456789012.dkr.ecr.us-east-1.amazonaws.com/cowsay");
        assert_eq!(r.image_tag_mutability, "MUTABLE");
        assert_eq!(
            cloud.repository_tags("cowsay").await.unwrap()["scar:workflow"],
            "wf"
        );
        let policy = cloud
            .lifecycle_policy("cowsay")
            .await
            .unwrap()
            .expect("a policy");
        assert_eq!(parse_json(&policy), lifecycle_policy());
        // Tags went in the create call: no TagResource.
        assert_eq!(cloud.requests().count("TagResource"), 0);

        let again = plan_for(&cloud, &d).await;
        assert!(!again.has_changes(), "{again:#?}");
        let c = change(&again, "cowsay");
        assert_eq!(c.outputs["uri"], r.uri);
        assert_eq!(
            c.outputs["arn"],
            "arn:aws:ecr:us-east-1:123456789012:repository/cowsay"
        );

        // Drift in a setting is planned as an update, and applied.
        cloud
            .put_image_tag_mutability("cowsay", "IMMUTABLE")
            .await
            .unwrap();
        let drifted = plan_for(&cloud, &d).await;
        assert_eq!(change(&drifted, "cowsay").action, Action::Update);
        run(&cloud, &drifted).await;
        assert!(!plan_for(&cloud, &d).await.has_changes());
    }

    #[tokio::test]
    async fn no_request_for_a_workflow_without_images() {
        let cloud = Arc::new(MemoryCloud::new());
        let d = desired(
            &manifest("workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: script\n"),
            "wf",
        );
        assert!(d.resources.is_empty());
        plan_for(&cloud, &d).await;
        assert_eq!(cloud.requests().count("DescribeRepositories"), 0);
    }

    #[tokio::test]
    async fn another_workflows_or_an_unmanaged_repository_blocks() {
        let cloud = Arc::new(MemoryCloud::new());
        let spec = RepositorySpec {
            name: "cowsay".into(),
            image_tag_mutability: "MUTABLE".into(),
            scan_on_push: false,
            tags: ownership_tags("wf2"),
        };
        cloud.create_repository(&spec).await.unwrap();
        cloud
            .create_repository(&RepositorySpec {
                name: "rebuilt".into(),
                tags: Tags::new(),
                ..spec
            })
            .await
            .unwrap();
        let d = desired(&manifest(MANIFEST), "wf");
        let p = plan_for(&cloud, &d).await;
        let theirs = change(&p, "cowsay");
        assert_eq!(theirs.action, Action::Blocked);
        assert!(
            theirs.reason.contains("workflow `wf2`"),
            "{}",
            theirs.reason
        );
        let unmanaged = change(&p, "rebuilt");
        assert_eq!(unmanaged.action, Action::Blocked);
        assert!(
            unmanaged.reason.contains("create_image: false"),
            "{}",
            unmanaged.reason
        );
        // The other workflow's is never deleted by this one.
        let destroy = plan_for(&cloud, &destroyed("wf")).await;
        assert!(destroy.changes.is_empty(), "{destroy:#?}");
    }

    #[tokio::test]
    async fn a_repository_with_only_scar_images_is_deleted_with_them() {
        let cloud = Arc::new(MemoryCloud::new());
        let d = desired(&manifest(MANIFEST), "wf");
        run(&cloud, &plan_for(&cloud, &d).await).await;
        push_as_scar(&cloud, "cowsay", "v1").await;
        push_as_scar(&cloud, "cowsay", "v2").await;
        let p = plan_for(&cloud, &destroyed("wf")).await;
        assert_eq!(change(&p, "cowsay").action, Action::Delete);
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        assert!(repository(&cloud, "cowsay").await.is_none());
        assert_eq!(cloud.list_repositories().await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn a_repository_holding_foreign_images_is_kept_on_removal() {
        let cloud = Arc::new(MemoryCloud::new());
        let d = desired(&manifest(MANIFEST), "wf");
        run(&cloud, &plan_for(&cloud, &d).await).await;
        push_as_scar(&cloud, "cowsay", "v1").await;
        let media = "application/vnd.oci.image.manifest.v1+json";
        cloud
            .put_image("cowsay", &image_manifest("theirs"), media, Some("latest"))
            .await
            .unwrap();
        let p = plan_for(&cloud, &destroyed("wf")).await;
        let c = change(&p, "cowsay");
        assert_eq!(c.action, Action::Keep);
        assert!(
            c.reason.contains("images scar did not push (latest)"),
            "{}",
            c.reason
        );
        // The others hold only scar's images (none): deleted.
        assert_eq!(change(&p, "rebuilt").action, Action::Delete);
        run(&cloud, &p).await;
        assert!(repository(&cloud, "cowsay").await.is_some());
        assert!(repository(&cloud, "rebuilt").await.is_none());
    }

    #[tokio::test]
    async fn a_foreign_image_pushed_after_the_plan_keeps_the_repository() {
        let cloud = Arc::new(MemoryCloud::new());
        let d = desired(&manifest(MANIFEST), "wf");
        run(&cloud, &plan_for(&cloud, &d).await).await;
        push_as_scar(&cloud, "cowsay", "v1").await;
        let p = plan_for(&cloud, &destroyed("wf")).await;
        assert_eq!(change(&p, "cowsay").action, Action::Delete);
        // Pushed by someone between plan and apply, untagged.
        let media = "application/vnd.oci.image.manifest.v1+json";
        cloud
            .put_image("cowsay", &image_manifest("late"), media, None)
            .await
            .unwrap();
        run(&cloud, &p).await;
        let images = cloud.list_images("cowsay").await.expect("still there");
        assert_eq!(images.len(), 2, "nothing deleted: {images:?}");
    }

    #[tokio::test]
    async fn a_create_that_finds_its_own_repository_converges() {
        let cloud = Arc::new(MemoryCloud::new());
        let d = desired(&manifest(MANIFEST), "wf");
        let p = plan_for(&cloud, &d).await;
        // An earlier, interrupted run created it, without the policy.
        let mut tags = ownership_tags("wf");
        tags.insert(TAG_FUNCTION.into(), "cowsay".into());
        cloud
            .create_repository(&RepositorySpec {
                name: "cowsay".into(),
                image_tag_mutability: "IMMUTABLE".into(),
                scan_on_push: true,
                tags,
            })
            .await
            .unwrap();
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        assert!(!plan_for(&cloud, &d).await.has_changes());
    }

    #[tokio::test]
    async fn a_create_that_finds_someone_elses_repository_leaves_it_alone() {
        let cloud = Arc::new(MemoryCloud::new());
        let d = desired(&manifest(MANIFEST), "wf");
        let p = plan_for(&cloud, &d).await;
        cloud
            .create_repository(&RepositorySpec {
                name: "cowsay".into(),
                image_tag_mutability: "IMMUTABLE".into(),
                scan_on_push: false,
                tags: Tags::new(),
            })
            .await
            .unwrap();
        let results = run(&cloud, &p).await;
        assert!(
            matches!(&results["ecr_repository.cowsay"], Outcome::Failed(why) if why.contains("not created by scar")),
            "{results:?}"
        );
        assert_eq!(
            repository(&cloud, "cowsay")
                .await
                .unwrap()
                .image_tag_mutability,
            "IMMUTABLE"
        );
        assert!(cloud.repository_tags("cowsay").await.unwrap().is_empty());
        assert_eq!(cloud.lifecycle_policy("cowsay").await.unwrap(), None);
    }
}
