//! `LogsApi` over the CloudWatch Logs SDK. Tags go through the ARN-based
//! tagging calls (the name-based ones are deprecated) and are set in
//! CreateLogGroup itself.

use super::cloud::{from_map, is_not_found, tag_map, AwsCloud, Guarded};
use crate::cloud::{Cloud, CloudResult, LogGroupState, LogsApi, Tags};

impl AwsCloud {
    /// The ARN of a log group, as the tagging calls take it (no `:*`).
    fn log_group_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{name}",
            self.partition(),
            self.region(),
            self.account_id()
        )
    }
}

impl LogsApi for AwsCloud {
    async fn describe_log_groups(&self, prefix: &str) -> CloudResult<Vec<LogGroupState>> {
        let mut groups = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.record("DescribeLogGroups")?;
            let mut req = self.logs.describe_log_groups().set_next_token(token.take());
            if !prefix.is_empty() {
                req = req.log_group_name_prefix(prefix);
            }
            let out = req
                .send()
                .guarded(self, "DescribeLogGroups")
                .await?
                .map_err(|e| self.sdk_error(format!("DescribeLogGroups {prefix}"), e))?;
            groups.extend(out.log_groups().iter().map(|g| LogGroupState {
                name: g.log_group_name().unwrap_or_default().to_string(),
                retention_days: g.retention_in_days().and_then(|d| u32::try_from(d).ok()),
                tags: None,
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    async fn list_log_group_tags(&self, name: &str) -> CloudResult<Tags> {
        self.record("ListTagsForResource")?;
        let out = self
            .logs
            .list_tags_for_resource()
            .resource_arn(self.log_group_arn(name))
            .send()
            .guarded(self, "ListTagsForResource")
            .await?
            .map_err(|e| self.sdk_error(format!("ListTagsForResource {name}"), e))?;
        Ok(out.tags().map(from_map).unwrap_or_default())
    }

    async fn create_log_group(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        self.record("CreateLogGroup")?;
        let tags = (!tags.is_empty()).then(|| tag_map(tags));
        self.logs
            .create_log_group()
            .log_group_name(name)
            .set_tags(tags)
            .send()
            .guarded(self, "CreateLogGroup")
            .await?
            .map_err(|e| self.sdk_error(format!("CreateLogGroup {name}"), e))?;
        Ok(())
    }

    async fn put_retention(&self, name: &str, days: u32) -> CloudResult<()> {
        self.record("PutRetentionPolicy")?;
        self.logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(i32::try_from(days).unwrap_or(i32::MAX))
            .send()
            .guarded(self, "PutRetentionPolicy")
            .await?
            .map_err(|e| self.sdk_error(format!("PutRetentionPolicy {name}"), e))?;
        Ok(())
    }

    async fn tag_log_group(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        self.record("TagResource")?;
        self.logs
            .tag_resource()
            .resource_arn(self.log_group_arn(name))
            .set_tags(Some(tag_map(tags)))
            .send()
            .guarded(self, "TagResource")
            .await?
            .map_err(|e| self.sdk_error(format!("TagResource {name}"), e))?;
        Ok(())
    }

    async fn delete_log_group(&self, name: &str) -> CloudResult<bool> {
        self.record("DeleteLogGroup")?;
        match self
            .logs
            .delete_log_group()
            .log_group_name(name)
            .send()
            .guarded(self, "DeleteLogGroup")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteLogGroup {name}"), e)),
        }
    }
}
