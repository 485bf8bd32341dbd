//! `LambdaApi` over the Lambda SDK: functions (tags set in CreateFunction),
//! resource-policy statements parsed from GetPolicy's JSON, and layers.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FileSystemConfig, FunctionCode, LayerVersionContentInput,
    PackageType, Runtime, VpcConfig,
};
use serde_json::Value;

use super::cloud::{build_error, from_map, has_code, is_not_found, tag_map, AwsCloud, Guarded};
use crate::cloud::{
    CloudError, CloudResult, CodeArtifact, ErrorKind, FunctionSpec, FunctionState, LambdaApi,
    LayerSpec, LayerVersion, PackageFetch, PackageSpec, PermissionStatement, Tags,
};

/// ListFunctions page size (the API's maximum).
const PAGE: i32 = 50;

/// Our view of a function configuration (tags are not part of it), from a
/// FunctionConfiguration or a CreateFunction response (same getters).
macro_rules! function_state {
    ($c:expr) => {{
        let c = &$c;
        FunctionState {
            name: c.function_name().unwrap_or_default().to_string(),
            arn: c.function_arn().unwrap_or_default().to_string(),
            role: c.role().unwrap_or_default().to_string(),
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            handler: c.handler().map(str::to_string),
            memory: from_i32(c.memory_size()),
            timeout: from_i32(c.timeout()),
            description: c.description().unwrap_or_default().to_string(),
            environment: c
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            layers: c
                .layers()
                .iter()
                .filter_map(|l| l.arn().map(str::to_string))
                .collect(),
            architectures: c
                .architectures()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            package_type: match c.package_type() {
                Some(PackageType::Image) => crate::cloud::PackageType::Image,
                _ => crate::cloud::PackageType::Zip,
            },
            code_sha256: c.code_sha256().unwrap_or_default().to_string(),
            // Only GetFunction's `Code` gives them.
            image_uri: None,
            resolved_image_uri: None,
            vpc_subnet_ids: c
                .vpc_config()
                .map(|v| v.subnet_ids().to_vec())
                .unwrap_or_default(),
            vpc_security_group_ids: c
                .vpc_config()
                .map(|v| v.security_group_ids().to_vec())
                .unwrap_or_default(),
            file_systems: c
                .file_system_configs()
                .iter()
                .map(|f| (f.arn().to_string(), f.local_mount_path().to_string()))
                .collect(),
            tags: None,
            state: c.state().map(|s| s.as_str().to_string()),
            last_update_status: c.last_update_status().map(|s| s.as_str().to_string()),
        }
    }};
}

impl LambdaApi for AwsCloud {
    async fn list_functions(&self) -> CloudResult<Vec<FunctionState>> {
        let mut functions = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.record("ListFunctions")?;
            let out = self
                .lambda
                .list_functions()
                .max_items(PAGE)
                .set_marker(marker.take())
                .send()
                .guarded(self, "ListFunctions")
                .await?
                .map_err(|e| self.sdk_error("ListFunctions", e))?;
            functions.extend(out.functions().iter().map(|c| function_state!(c)));
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(functions)
    }

    async fn get_function(&self, name: &str) -> CloudResult<Option<FunctionState>> {
        self.record("GetFunction")?;
        match self
            .lambda
            .get_function()
            .function_name(name)
            .send()
            .guarded(self, "GetFunction")
            .await?
        {
            Ok(out) => {
                let Some(conf) = out.configuration() else {
                    return Ok(None);
                };
                let mut state = function_state!(conf);
                state.tags = Some(out.tags().map(from_map).unwrap_or_default());
                if let Some(code) = out.code() {
                    state.image_uri = code.image_uri().map(str::to_string);
                    state.resolved_image_uri = code.resolved_image_uri().map(str::to_string);
                }
                Ok(Some(state))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.sdk_error(format!("GetFunction {name}"), e)),
        }
    }

    async fn function_code(&self, name: &str) -> CloudResult<PackageFetch> {
        self.record("GetFunction")?;
        let out = match self
            .lambda
            .get_function()
            .function_name(name)
            .send()
            .guarded(self, "GetFunction")
            .await?
        {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => {
                return Ok(PackageFetch::Unavailable(
                    "the function does not exist".into(),
                ))
            }
            Err(e) => return Err(self.sdk_error(format!("GetFunction {name}"), e)),
        };
        let sha = out
            .configuration()
            .and_then(|c| c.code_sha256())
            .unwrap_or_default()
            .to_string();
        if let Some(uri) = out.code().and_then(|c| c.image_uri()) {
            return Ok(PackageFetch::Image {
                uri: uri.to_string(),
                resolved_uri: out
                    .code()
                    .and_then(|c| c.resolved_image_uri())
                    .map(str::to_string),
            });
        }
        let Some(location) = out.code().and_then(|c| c.location()) else {
            return Ok(PackageFetch::Unavailable(
                "GetFunction gives no code location".into(),
            ));
        };
        let uri = match super::download::allowed(location, self.endpoint.as_deref()) {
            Ok(uri) => uri,
            Err(why) => return Ok(PackageFetch::Unavailable(why)),
        };
        Ok(
            match super::download::download(uri, &sha, self.timeouts).await {
                Ok(zip) => PackageFetch::Zip(zip),
                Err(why) => PackageFetch::Unavailable(why),
            },
        )
    }

    async fn create_function(
        &self,
        spec: &FunctionSpec,
        code: &CodeArtifact,
    ) -> CloudResult<FunctionState> {
        let op = format!("CreateFunction {}", spec.name);
        check_code(&op, spec, code)?;
        let mut req = self
            .lambda
            .create_function()
            .function_name(&spec.name)
            .role(&spec.role)
            .memory_size(to_i32(spec.memory))
            .timeout(to_i32(spec.timeout))
            .description(&spec.description)
            .code(function_code(code))
            .environment(environment(spec))
            .set_architectures(architectures(spec))
            .set_file_system_configs(Some(file_systems(spec, &op)?))
            .set_tags(Some(tag_map(&spec.tags)));
        req = match &spec.package {
            PackageSpec::Zip {
                runtime,
                handler,
                layers,
            } => req
                .package_type(PackageType::Zip)
                .runtime(Runtime::from(runtime.as_str()))
                .handler(handler)
                .set_layers(Some(layers.clone())),
            PackageSpec::Image => req.package_type(PackageType::Image),
        };
        if !spec.vpc_subnet_ids.is_empty() || !spec.vpc_security_group_ids.is_empty() {
            req = req.vpc_config(vpc(spec));
        }
        self.record("CreateFunction")?;
        let out = req
            .send()
            .guarded(self, "CreateFunction")
            .await?
            .map_err(|e| self.sdk_error(&op, e))?;
        // The create response carries the configuration, as GetFunction does.
        let mut state = function_state!(out);
        state.tags = Some(spec.tags.clone());
        if let CodeArtifact::Image { uri } = code {
            state.image_uri = Some(uri.clone());
        }
        Ok(state)
    }

    async fn update_function_configuration(&self, spec: &FunctionSpec) -> CloudResult<()> {
        let op = format!("UpdateFunctionConfiguration {}", spec.name);
        let req = self
            .lambda
            .update_function_configuration()
            .function_name(&spec.name)
            .role(&spec.role)
            .memory_size(to_i32(spec.memory))
            .timeout(to_i32(spec.timeout))
            .description(&spec.description)
            .environment(environment(spec))
            .vpc_config(vpc(spec))
            .set_file_system_configs(Some(file_systems(spec, &op)?));
        // Lambda refuses a runtime, handler or layers for an image function.
        let req = match &spec.package {
            PackageSpec::Zip {
                runtime,
                handler,
                layers,
            } => req
                .runtime(Runtime::from(runtime.as_str()))
                .handler(handler)
                .set_layers(Some(layers.clone())),
            PackageSpec::Image => req,
        };
        self.record("UpdateFunctionConfiguration")?;
        req.send()
            .guarded(self, "UpdateFunctionConfiguration")
            .await?
            .map_err(|e| self.sdk_error(&op, e))?;
        Ok(())
    }

    async fn update_function_code(&self, name: &str, code: &CodeArtifact) -> CloudResult<()> {
        let req = self.lambda.update_function_code().function_name(name);
        let req = match code {
            CodeArtifact::Zip(zip) => req.zip_file(Blob::new(zip.as_slice())),
            CodeArtifact::Image { uri } => req.image_uri(uri),
        };
        self.record("UpdateFunctionCode")?;
        req.send()
            .guarded(self, "UpdateFunctionCode")
            .await?
            .map_err(|e| self.sdk_error(format!("UpdateFunctionCode {name}"), e))?;
        Ok(())
    }

    async fn delete_function(&self, name: &str) -> CloudResult<bool> {
        self.record("DeleteFunction")?;
        match self
            .lambda
            .delete_function()
            .function_name(name)
            .send()
            .guarded(self, "DeleteFunction")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteFunction {name}"), e)),
        }
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.record("TagResource")?;
        self.lambda
            .tag_resource()
            .resource(arn)
            .set_tags(Some(tag_map(tags)))
            .send()
            .guarded(self, "TagResource")
            .await?
            .map_err(|e| self.sdk_error(format!("TagResource {arn}"), e))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.record("UntagResource")?;
        self.lambda
            .untag_resource()
            .resource(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .guarded(self, "UntagResource")
            .await?
            .map_err(|e| self.sdk_error(format!("UntagResource {arn}"), e))?;
        Ok(())
    }

    async fn get_policy(&self, function: &str) -> CloudResult<Vec<PermissionStatement>> {
        let op = format!("GetPolicy {function}");
        self.record("GetPolicy")?;
        // A function without a policy and a missing function give the same
        // ResourceNotFoundException: both read as "no statements".
        let policy = match self
            .lambda
            .get_policy()
            .function_name(function)
            .send()
            .guarded(self, "GetPolicy")
            .await?
        {
            Ok(out) => out.policy().unwrap_or_default().to_string(),
            Err(e) if is_not_found(&e) => return Ok(Vec::new()),
            Err(e) => return Err(self.sdk_error(op, e)),
        };
        if policy.is_empty() {
            return Ok(Vec::new());
        }
        parse_policy(&policy).map_err(|e| build_error(op, e))
    }

    async fn add_permission(
        &self,
        function: &str,
        statement: &PermissionStatement,
    ) -> CloudResult<()> {
        self.record("AddPermission")?;
        self.lambda
            .add_permission()
            .function_name(function)
            .statement_id(&statement.sid)
            .action(&statement.action)
            .principal(&statement.principal)
            .set_source_arn(statement.source_arn.clone())
            .set_source_account(statement.source_account.clone())
            .send()
            .guarded(self, "AddPermission")
            .await?
            .map_err(|e| {
                self.sdk_error(format!("AddPermission {function} {}", statement.sid), e)
            })?;
        Ok(())
    }

    async fn remove_permission(&self, function: &str, sid: &str) -> CloudResult<bool> {
        self.record("RemovePermission")?;
        match self
            .lambda
            .remove_permission()
            .function_name(function)
            .statement_id(sid)
            .send()
            .guarded(self, "RemovePermission")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("RemovePermission {function} {sid}"), e)),
        }
    }

    async fn list_layer_versions(&self, layer_name: &str) -> CloudResult<Vec<LayerVersion>> {
        let mut versions = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.record("ListLayerVersions")?;
            let out = self
                .lambda
                .list_layer_versions()
                .layer_name(layer_name)
                .set_marker(marker.take())
                .send()
                .guarded(self, "ListLayerVersions")
                .await?;
            let out = match out {
                Ok(out) => out,
                Err(e) if is_not_found(&e) => break,
                Err(e) => return Err(self.sdk_error(format!("ListLayerVersions {layer_name}"), e)),
            };
            versions.extend(out.layer_versions().iter().map(|v| LayerVersion {
                layer_name: layer_name.to_string(),
                arn: v.layer_version_arn().unwrap_or_default().to_string(),
                version: v.version(),
                description: v.description().unwrap_or_default().to_string(),
            }));
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        Ok(versions)
    }

    async fn publish_layer_version(
        &self,
        spec: &LayerSpec,
        zip: &[u8],
    ) -> CloudResult<LayerVersion> {
        self.record("PublishLayerVersion")?;
        let out = self
            .lambda
            .publish_layer_version()
            .layer_name(&spec.layer_name)
            .description(&spec.description)
            .license_info(&spec.license_info)
            .content(
                LayerVersionContentInput::builder()
                    .zip_file(Blob::new(zip))
                    .build(),
            )
            .set_compatible_runtimes(Some(
                spec.compatible_runtimes
                    .iter()
                    .map(|r| Runtime::from(r.as_str()))
                    .collect(),
            ))
            .set_compatible_architectures(Some(
                spec.compatible_architectures
                    .iter()
                    .map(|a| Architecture::from(a.as_str()))
                    .collect(),
            ))
            .send()
            .guarded(self, "PublishLayerVersion")
            .await?
            .map_err(|e| self.sdk_error(format!("PublishLayerVersion {}", spec.layer_name), e))?;
        Ok(LayerVersion {
            layer_name: spec.layer_name.clone(),
            arn: out.layer_version_arn().unwrap_or_default().to_string(),
            version: out.version(),
            description: out.description().unwrap_or_default().to_string(),
        })
    }

    async fn delete_layer_version(&self, layer_name: &str, version: i64) -> CloudResult<()> {
        self.record("DeleteLayerVersion")?;
        match self
            .lambda
            .delete_layer_version()
            .layer_name(layer_name)
            .version_number(version)
            .send()
            .guarded(self, "DeleteLayerVersion")
            .await?
        {
            Ok(_) => Ok(()),
            Err(e) if has_code(&e, &["ResourceNotFoundException"]) => Ok(()),
            Err(e) => Err(self.sdk_error(format!("DeleteLayerVersion {layer_name}:{version}"), e)),
        }
    }
}

/// The `Code` of a CreateFunction: `ZipFile` or `ImageUri`.
fn function_code(code: &CodeArtifact) -> FunctionCode {
    match code {
        CodeArtifact::Zip(zip) => FunctionCode::builder()
            .zip_file(Blob::new(zip.as_slice()))
            .build(),
        CodeArtifact::Image { uri } => FunctionCode::builder().image_uri(uri).build(),
    }
}

/// Code of another package type than the spec's is refused before any
/// request, as Lambda would refuse it.
fn check_code(op: &str, spec: &FunctionSpec, code: &CodeArtifact) -> CloudResult<()> {
    match code.mismatch(spec.package.package_type()) {
        Some(why) => Err(CloudError::with_kind(op, ErrorKind::Invalid, why)),
        None => Ok(()),
    }
}

fn environment(spec: &FunctionSpec) -> Environment {
    Environment::builder()
        .set_variables(Some(
            spec.environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
        .build()
}

fn vpc(spec: &FunctionSpec) -> VpcConfig {
    VpcConfig::builder()
        .set_subnet_ids(Some(spec.vpc_subnet_ids.clone()))
        .set_security_group_ids(Some(spec.vpc_security_group_ids.clone()))
        .build()
}

fn architectures(spec: &FunctionSpec) -> Option<Vec<Architecture>> {
    if spec.architectures.is_empty() {
        return None;
    }
    Some(
        spec.architectures
            .iter()
            .map(|a| Architecture::from(a.as_str()))
            .collect(),
    )
}

fn file_systems(spec: &FunctionSpec, op: &str) -> CloudResult<Vec<FileSystemConfig>> {
    spec.file_systems
        .iter()
        .map(|(arn, path)| {
            FileSystemConfig::builder()
                .arn(arn)
                .local_mount_path(path)
                .build()
                .map_err(|e| build_error(op, e))
        })
        .collect()
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn from_i32(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or_default()
}

/// Why a resource policy could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the function's resource policy is not the JSON Lambda documents: {0}")]
pub struct PolicyParseError(String);

/// The statements of a Lambda resource policy.
pub fn parse_policy(policy: &str) -> Result<Vec<PermissionStatement>, PolicyParseError> {
    let doc: Value = serde_json::from_str(policy).map_err(|e| PolicyParseError(e.to_string()))?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let mut out: Vec<PermissionStatement> = statements.iter().map(statement).collect();
    out.sort();
    Ok(out)
}

fn statement(s: &Value) -> PermissionStatement {
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    };
    let principal = match s.get("Principal") {
        Some(Value::String(p)) => p.clone(),
        Some(p @ Value::Object(_)) => text(p.get("Service"))
            .or_else(|| text(p.get("AWS")))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let condition = |key: &str| {
        s.get("Condition")
            .and_then(Value::as_object)
            .and_then(|ops| {
                ops.values().find_map(|op| {
                    let op = op.as_object()?;
                    op.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .and_then(|(_, v)| text(Some(v)))
                })
            })
    };
    PermissionStatement {
        sid: text(s.get("Sid")).unwrap_or_default(),
        principal,
        action: text(s.get("Action")).unwrap_or_default(),
        source_arn: condition("AWS:SourceArn"),
        source_account: condition("AWS:SourceAccount"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_lambda_resource_policy() {
        let policy = r#"{"Version":"2012-10-17","Id":"default","Statement":[
          {"Sid":"scar-s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
           "Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:1:function:f",
           "Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},
                        "ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}},
          {"Sid":"all","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"}]}"#;
        let got = parse_policy(policy).unwrap();
        assert_eq!(
            got,
            vec![
                PermissionStatement {
                    sid: "all".into(),
                    principal: "*".into(),
                    action: "lambda:InvokeFunction".into(),
                    source_arn: None,
                    source_account: None,
                },
                PermissionStatement {
                    sid: "scar-s3".into(),
                    principal: "s3.amazonaws.com".into(),
                    action: "lambda:InvokeFunction".into(),
                    source_arn: Some("arn:aws:s3:::b".into()),
                    source_account: Some("123456789012".into()),
                },
            ]
        );
    }

    #[test]
    fn rejects_a_policy_that_is_not_json() {
        assert!(parse_policy("{not json").is_err());
    }
}
