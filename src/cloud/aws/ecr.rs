//! `EcrApi` over the ECR SDK (the control plane: repositories, their tags,
//! settings and lifecycle policy, image listings, PutImage). Tags are set
//! in CreateRepository itself; the ARN-based tag calls take the
//! repository's ARN, built from the account and region.

use std::collections::BTreeMap;

use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, Tag};

use super::cloud::{build_error, has_code, is_not_found, AwsCloud, Guarded};
use crate::cloud::{Cloud, CloudResult, EcrApi, ImageState, RepositorySpec, RepositoryState, Tags};

/// Repositories per DescribeRepositories page (the API's maximum).
const REPOSITORY_PAGE: i32 = 1000;

/// Image ids per ListImages page (the API's maximum).
const IMAGE_PAGE: i32 = 1000;

impl AwsCloud {
    /// A repository's ARN, as the tag calls take it.
    fn repository_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:ecr:{}:{}:repository/{name}",
            self.partition(),
            self.region(),
            self.account_id()
        )
    }
}

/// The SDK's repository as ours (tags not filled).
fn repository_state(r: &Repository) -> RepositoryState {
    RepositoryState {
        name: r.repository_name().unwrap_or_default().to_string(),
        arn: r.repository_arn().unwrap_or_default().to_string(),
        uri: r.repository_uri().unwrap_or_default().to_string(),
        image_tag_mutability: r
            .image_tag_mutability()
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| "MUTABLE".to_string()),
        scan_on_push: r
            .image_scanning_configuration()
            .is_some_and(|c| c.scan_on_push()),
        tags: None,
    }
}

/// Our tags as the SDK's tag list (sorted, as ours are).
fn tag_list(op: &str, tags: &Tags) -> CloudResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error(op.to_string(), e))
        })
        .collect()
}

impl EcrApi for AwsCloud {
    async fn list_repositories(&self) -> CloudResult<Vec<RepositoryState>> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.record("DescribeRepositories")?;
            let out = self
                .ecr
                .describe_repositories()
                .max_results(REPOSITORY_PAGE)
                .set_next_token(token.take())
                .send()
                .guarded(self, "DescribeRepositories")
                .await?
                .map_err(|e| self.sdk_error("DescribeRepositories", e))?;
            found.extend(out.repositories().iter().map(repository_state));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    async fn repository_tags(&self, name: &str) -> CloudResult<Tags> {
        self.record("ListTagsForResource")?;
        let out = self
            .ecr
            .list_tags_for_resource()
            .resource_arn(self.repository_arn(name))
            .send()
            .guarded(self, "ListTagsForResource")
            .await?
            .map_err(|e| self.sdk_error(format!("ListTagsForResource {name}"), e))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    async fn create_repository(&self, spec: &RepositorySpec) -> CloudResult<RepositoryState> {
        let op = format!("CreateRepository {}", spec.name);
        let tags = tag_list(&op, &spec.tags)?;
        self.record("CreateRepository")?;
        let out = self
            .ecr
            .create_repository()
            .repository_name(&spec.name)
            .set_tags((!tags.is_empty()).then_some(tags))
            .image_tag_mutability(ImageTagMutability::from(spec.image_tag_mutability.as_str()))
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(spec.scan_on_push)
                    .build(),
            )
            .send()
            .guarded(self, "CreateRepository")
            .await?
            .map_err(|e| self.sdk_error(op, e))?;
        let mut created =
            out.repository()
                .map(repository_state)
                .unwrap_or_else(|| RepositoryState {
                    name: spec.name.clone(),
                    arn: self.repository_arn(&spec.name),
                    uri: String::new(),
                    image_tag_mutability: spec.image_tag_mutability.clone(),
                    scan_on_push: spec.scan_on_push,
                    tags: None,
                });
        created.tags = Some(spec.tags.clone());
        Ok(created)
    }

    async fn tag_repository(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        let op = format!("TagResource {name}");
        let list = tag_list(&op, tags)?;
        self.record("TagResource")?;
        self.ecr
            .tag_resource()
            .resource_arn(self.repository_arn(name))
            .set_tags(Some(list))
            .send()
            .guarded(self, "TagResource")
            .await?
            .map_err(|e| self.sdk_error(op, e))?;
        Ok(())
    }

    async fn put_image_tag_mutability(&self, name: &str, mutability: &str) -> CloudResult<()> {
        self.record("PutImageTagMutability")?;
        self.ecr
            .put_image_tag_mutability()
            .repository_name(name)
            .image_tag_mutability(ImageTagMutability::from(mutability))
            .send()
            .guarded(self, "PutImageTagMutability")
            .await?
            .map_err(|e| self.sdk_error(format!("PutImageTagMutability {name}"), e))?;
        Ok(())
    }

    async fn put_scan_on_push(&self, name: &str, scan_on_push: bool) -> CloudResult<()> {
        self.record("PutImageScanningConfiguration")?;
        self.ecr
            .put_image_scanning_configuration()
            .repository_name(name)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(scan_on_push)
                    .build(),
            )
            .send()
            .guarded(self, "PutImageScanningConfiguration")
            .await?
            .map_err(|e| self.sdk_error(format!("PutImageScanningConfiguration {name}"), e))?;
        Ok(())
    }

    async fn lifecycle_policy(&self, name: &str) -> CloudResult<Option<String>> {
        self.record("GetLifecyclePolicy")?;
        match self
            .ecr
            .get_lifecycle_policy()
            .repository_name(name)
            .send()
            .guarded(self, "GetLifecyclePolicy")
            .await?
        {
            Ok(out) => Ok(out.lifecycle_policy_text().map(str::to_string)),
            // No policy is an answer; no repository is an error.
            Err(e) if has_code(&e, &["LifecyclePolicyNotFoundException"]) => Ok(None),
            Err(e) => Err(self.sdk_error(format!("GetLifecyclePolicy {name}"), e)),
        }
    }

    async fn put_lifecycle_policy(&self, name: &str, policy: &str) -> CloudResult<()> {
        self.record("PutLifecyclePolicy")?;
        self.ecr
            .put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(policy)
            .send()
            .guarded(self, "PutLifecyclePolicy")
            .await?
            .map_err(|e| self.sdk_error(format!("PutLifecyclePolicy {name}"), e))?;
        Ok(())
    }

    async fn list_images(&self, name: &str) -> CloudResult<Vec<ImageState>> {
        // ListImages gives one id per (digest, tag), and one without a tag
        // for an untagged image: grouped by digest here.
        let mut by_digest: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            self.record("ListImages")?;
            let out = self
                .ecr
                .list_images()
                .repository_name(name)
                .max_results(IMAGE_PAGE)
                .set_next_token(token.take())
                .send()
                .guarded(self, "ListImages")
                .await?
                .map_err(|e| self.sdk_error(format!("ListImages {name}"), e))?;
            for id in out.image_ids() {
                let Some(digest) = id.image_digest() else {
                    continue;
                };
                let tags = by_digest.entry(digest.to_string()).or_default();
                if let Some(tag) = id.image_tag() {
                    tags.push(tag.to_string());
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(by_digest
            .into_iter()
            .map(|(digest, mut tags)| {
                tags.sort();
                tags.dedup();
                ImageState { digest, tags }
            })
            .collect())
    }

    async fn put_image(
        &self,
        name: &str,
        manifest: &str,
        media_type: &str,
        tag: Option<&str>,
    ) -> CloudResult<String> {
        let digest = format!("sha256:{}", crate::hash::hex_sha256(manifest.as_bytes()));
        self.record("PutImage")?;
        self.ecr
            .put_image()
            .repository_name(name)
            .image_manifest(manifest)
            .image_manifest_media_type(media_type)
            .image_digest(&digest)
            .set_image_tag(tag.map(str::to_string))
            .send()
            .guarded(self, "PutImage")
            .await?
            .map_err(|e| self.sdk_error(format!("PutImage {name}"), e))?;
        Ok(digest)
    }

    async fn authorization_token(&self) -> CloudResult<(String, String)> {
        const OP: &str = "GetAuthorizationToken";
        self.record(OP)?;
        let out = self
            .ecr
            .get_authorization_token()
            .send()
            .guarded(self, OP)
            .await?
            .map_err(|e| self.sdk_error(OP, e))?;
        let invalid = |why: &str| {
            crate::cloud::CloudError::with_kind(OP, crate::cloud::ErrorKind::Other, why.to_string())
        };
        let token = out
            .authorization_data()
            .first()
            .and_then(|d| d.authorization_token())
            .ok_or_else(|| invalid("ECR gave no authorization token"))?;
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| invalid("ECR's authorization token is not base64 text"))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| invalid("ECR's authorization token is not `user:password`"))?;
        Ok((user.to_string(), password.to_string()))
    }

    async fn delete_repository(&self, name: &str, force: bool) -> CloudResult<bool> {
        self.record("DeleteRepository")?;
        match self
            .ecr
            .delete_repository()
            .repository_name(name)
            .force(force)
            .send()
            .guarded(self, "DeleteRepository")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteRepository {name}"), e)),
        }
    }
}
