//! `IamApi` over the IAM SDK: roles with tags set in CreateRole and inline
//! policies. IAM returns policy documents URL-encoded; they are decoded here.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{Role, Tag};

use super::cloud::{build_error, decode_policy, is_not_found, AwsCloud, Guarded};
use crate::cloud::{CloudResult, IamApi, InstanceProfileState, RoleState, Tags};

/// Our tags as IAM's list of tags.
fn iam_tags(op: &str, tags: &Tags) -> CloudResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| build_error(op, e))
}

impl AwsCloud {
    /// The names of a role's inline policies (all pages).
    async fn inline_policy_names(&self, role: &str) -> CloudResult<Vec<String>> {
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.record("ListRolePolicies")?;
            let out = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker.take())
                .send()
                .guarded(self, "ListRolePolicies")
                .await?
                .map_err(|e| self.sdk_error(format!("ListRolePolicies {role}"), e))?;
            names.extend(out.policy_names().iter().cloned());
            match out.marker() {
                Some(m) if out.is_truncated() && !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        Ok(names)
    }

    /// GetRole: the role without its inline policies; `None` if it does
    /// not exist.
    async fn fetch_role(&self, name: &str) -> CloudResult<Option<Role>> {
        self.record("GetRole")?;
        match self
            .iam
            .get_role()
            .role_name(name)
            .send()
            .guarded(self, "GetRole")
            .await?
        {
            Ok(out) => Ok(out.role),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.sdk_error(format!("GetRole {name}"), e)),
        }
    }
}

impl IamApi for AwsCloud {
    async fn get_role(&self, name: &str) -> CloudResult<Option<RoleState>> {
        let Some(role) = self.fetch_role(name).await? else {
            return Ok(None);
        };
        let mut inline_policies = BTreeMap::new();
        for policy in self.inline_policy_names(name).await? {
            self.record("GetRolePolicy")?;
            let doc = self
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .guarded(self, "GetRolePolicy")
                .await?
                .map_err(|e| self.sdk_error(format!("GetRolePolicy {name} {policy}"), e))?;
            inline_policies.insert(policy, decode_policy(doc.policy_document()));
        }
        Ok(Some(RoleState {
            name: role.role_name().to_string(),
            arn: role.arn().to_string(),
            assume_role_policy: decode_policy(
                role.assume_role_policy_document().unwrap_or_default(),
            ),
            tags: role
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            inline_policies,
        }))
    }

    async fn role_arn(&self, name: &str) -> CloudResult<Option<String>> {
        Ok(self.fetch_role(name).await?.map(|r| r.arn))
    }

    async fn create_role(
        &self,
        name: &str,
        assume_role_policy: &str,
        tags: &Tags,
    ) -> CloudResult<String> {
        let op = format!("CreateRole {name}");
        let tags = iam_tags(&op, tags)?;
        self.record("CreateRole")?;
        let out = self
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(assume_role_policy)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .guarded(self, "CreateRole")
            .await?
            .map_err(|e| self.sdk_error(&op, e))?;
        Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
    }

    async fn update_assume_role_policy(&self, name: &str, policy: &str) -> CloudResult<()> {
        self.record("UpdateAssumeRolePolicy")?;
        self.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(policy)
            .send()
            .guarded(self, "UpdateAssumeRolePolicy")
            .await?
            .map_err(|e| self.sdk_error(format!("UpdateAssumeRolePolicy {name}"), e))?;
        Ok(())
    }

    async fn tag_role(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        let op = format!("TagRole {name}");
        let tags = iam_tags(&op, tags)?;
        self.record("TagRole")?;
        self.iam
            .tag_role()
            .role_name(name)
            .set_tags(Some(tags))
            .send()
            .guarded(self, "TagRole")
            .await?
            .map_err(|e| self.sdk_error(&op, e))?;
        Ok(())
    }

    async fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &str,
    ) -> CloudResult<()> {
        self.record("PutRolePolicy")?;
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .guarded(self, "PutRolePolicy")
            .await?
            .map_err(|e| self.sdk_error(format!("PutRolePolicy {role} {policy_name}"), e))?;
        Ok(())
    }

    /// Idempotent: a policy (or role) that is already gone is not an error.
    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> CloudResult<()> {
        self.record("DeleteRolePolicy")?;
        match self
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .send()
            .guarded(self, "DeleteRolePolicy")
            .await?
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(self.sdk_error(format!("DeleteRolePolicy {role} {policy_name}"), e)),
        }
    }

    async fn delete_role(&self, name: &str) -> CloudResult<bool> {
        let policies = match self.inline_policy_names(name).await {
            Ok(p) => p,
            Err(e) if e.kind == crate::cloud::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        for policy in policies {
            self.delete_role_policy(name, &policy).await?;
        }
        self.record("DeleteRole")?;
        match self
            .iam
            .delete_role()
            .role_name(name)
            .send()
            .guarded(self, "DeleteRole")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteRole {name}"), e)),
        }
    }

    async fn attached_policy_documents(&self, role: &str) -> CloudResult<Vec<String>> {
        let mut arns = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.record("ListAttachedRolePolicies")?;
            let out = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker.take())
                .send()
                .guarded(self, "ListAttachedRolePolicies")
                .await?
                .map_err(|e| self.sdk_error(format!("ListAttachedRolePolicies {role}"), e))?;
            arns.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
            match out.marker() {
                Some(m) if out.is_truncated() && !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        let mut docs = Vec::new();
        for arn in arns {
            self.record("GetPolicy")?;
            let p = self
                .iam
                .get_policy()
                .policy_arn(&arn)
                .send()
                .guarded(self, "GetPolicy")
                .await?
                .map_err(|e| self.sdk_error(format!("GetPolicy {arn}"), e))?;
            let Some(version) = p.policy().and_then(|p| p.default_version_id()) else {
                continue;
            };
            self.record("GetPolicyVersion")?;
            let v = self
                .iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(version)
                .send()
                .guarded(self, "GetPolicyVersion")
                .await?
                .map_err(|e| self.sdk_error(format!("GetPolicyVersion {arn}"), e))?;
            if let Some(doc) = v.policy_version().and_then(|v| v.document()) {
                docs.push(decode_policy(doc));
            }
        }
        Ok(docs)
    }

    async fn get_instance_profile(&self, name: &str) -> CloudResult<Option<InstanceProfileState>> {
        self.record("GetInstanceProfile")?;
        let p = match self
            .iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .guarded(self, "GetInstanceProfile")
            .await?
        {
            Ok(out) => out.instance_profile,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(self.sdk_error(format!("GetInstanceProfile {name}"), e)),
        };
        Ok(p.map(|p| InstanceProfileState {
            name: p.instance_profile_name().to_string(),
            arn: p.arn().to_string(),
            roles: p
                .roles()
                .iter()
                .map(|r| r.role_name().to_string())
                .collect(),
            tags: p
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        }))
    }

    async fn create_instance_profile(&self, name: &str, tags: &Tags) -> CloudResult<String> {
        let op = format!("CreateInstanceProfile {name}");
        let tags = iam_tags(&op, tags)?;
        self.record("CreateInstanceProfile")?;
        let out = self
            .iam
            .create_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(tags))
            .send()
            .guarded(self, "CreateInstanceProfile")
            .await?
            .map_err(|e| self.sdk_error(&op, e))?;
        Ok(out
            .instance_profile()
            .map(|p| p.arn().to_string())
            .unwrap_or_default())
    }

    async fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> CloudResult<()> {
        self.record("AddRoleToInstanceProfile")?;
        self.iam
            .add_role_to_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .guarded(self, "AddRoleToInstanceProfile")
            .await?
            .map_err(|e| self.sdk_error(format!("AddRoleToInstanceProfile {profile} {role}"), e))?;
        Ok(())
    }

    async fn remove_role_from_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> CloudResult<()> {
        self.record("RemoveRoleFromInstanceProfile")?;
        match self
            .iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .guarded(self, "RemoveRoleFromInstanceProfile")
            .await?
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => {
                Err(self.sdk_error(format!("RemoveRoleFromInstanceProfile {profile} {role}"), e))
            }
        }
    }

    async fn tag_instance_profile(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        let op = format!("TagInstanceProfile {name}");
        let tags = iam_tags(&op, tags)?;
        self.record("TagInstanceProfile")?;
        self.iam
            .tag_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(tags))
            .send()
            .guarded(self, "TagInstanceProfile")
            .await?
            .map_err(|e| self.sdk_error(&op, e))?;
        Ok(())
    }

    async fn delete_instance_profile(&self, name: &str) -> CloudResult<bool> {
        let Some(p) = self.get_instance_profile(name).await? else {
            return Ok(false);
        };
        for role in &p.roles {
            self.remove_role_from_instance_profile(name, role).await?;
        }
        self.record("DeleteInstanceProfile")?;
        match self
            .iam
            .delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .guarded(self, "DeleteInstanceProfile")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteInstanceProfile {name}"), e)),
        }
    }
}
