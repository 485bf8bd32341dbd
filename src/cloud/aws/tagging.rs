//! `TaggingApi` over the Resource Groups Tagging API (GetResources).

use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::cloud::{AwsCloud, Guarded};
use crate::cloud::{CloudResult, TaggedResource, TaggingApi};

impl TaggingApi for AwsCloud {
    async fn resources_with_tag(
        &self,
        key: &str,
        value: Option<&str>,
        types: &[&str],
    ) -> CloudResult<Vec<TaggedResource>> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.record("GetResources")?;
            let out = self
                .tagging
                .get_resources()
                .tag_filters(
                    TagFilter::builder()
                        .key(key)
                        .set_values(value.map(|v| vec![v.to_string()]))
                        .build(),
                )
                .set_resource_type_filters(Some(types.iter().map(|t| t.to_string()).collect()))
                .set_pagination_token(token.take())
                .send()
                .guarded(self, "GetResources")
                .await?
                .map_err(|e| {
                    self.sdk_error(format!("GetResources {key}={}", value.unwrap_or("*")), e)
                })?;
            found.extend(out.resource_tag_mapping_list().iter().map(|m| {
                TaggedResource {
                    arn: m.resource_arn().unwrap_or_default().to_string(),
                    tags: m
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect(),
                }
            }));
            match out.pagination_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(found)
    }
}
