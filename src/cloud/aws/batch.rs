//! `BatchApi` over the AWS Batch SDK. Environments and queues are described
//! by lists of names, 100 a call; job definitions by name, ACTIVE only, all
//! pages. Vcpus, memory and GPUs go as `resourceRequirements` (the
//! top-level `vcpus`/`memory` fields are deprecated, and Fargate takes only
//! these).

use std::collections::BTreeMap;

use aws_sdk_batch::types::{
    CeState, CeType, ComputeEnvironmentOrder, ComputeResource, ComputeResourceUpdate,
    ContainerProperties, CrType, JobDefinitionType, JqState, KeyValuePair, NodeProperties,
    NodeRangeProperty, PlatformCapability, ResourceRequirement, ResourceType,
};

use super::cloud::{from_map, is_not_found, tag_map, AwsCloud, Guarded};
use crate::cloud::{
    BatchApi, CloudResult, ComputeEnvironmentSpec, ComputeEnvironmentState,
    ComputeEnvironmentUpdate, ComputeResources, JobContainer, JobDefinitionSpec,
    JobDefinitionState, JobNodes, JobQueueSpec, JobQueueState, JobQueueUpdate, Tags,
    DESCRIBE_NAMES,
};

fn resources_of(r: &aws_sdk_batch::types::ComputeResource) -> ComputeResources {
    ComputeResources {
        kind: r
            .r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        min_vcpus: r.minv_cpus().unwrap_or_default().max(0) as u32,
        max_vcpus: r.maxv_cpus().unwrap_or_default().max(0) as u32,
        desired_vcpus: r.desiredv_cpus().unwrap_or_default().max(0) as u32,
        instance_types: r.instance_types().to_vec(),
        subnets: r.subnets().to_vec(),
        security_group_ids: r.security_group_ids().to_vec(),
        instance_role: r.instance_role().map(str::to_string),
    }
}

fn tags_of(t: Option<&std::collections::HashMap<String, String>>) -> Tags {
    t.map(from_map).unwrap_or_default()
}

fn requirement(kind: ResourceType, value: u32) -> ResourceRequirement {
    ResourceRequirement::builder()
        .r#type(kind)
        .value(value.to_string())
        .build()
}

fn container_properties(c: &JobContainer) -> ContainerProperties {
    let mut req = vec![
        requirement(ResourceType::Vcpu, c.vcpus),
        requirement(ResourceType::Memory, c.memory),
    ];
    if c.gpus > 0 {
        req.push(requirement(ResourceType::Gpu, c.gpus));
    }
    let env = c
        .environment
        .iter()
        .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
        .collect();
    ContainerProperties::builder()
        .image(&c.image)
        .set_command((!c.command.is_empty()).then(|| c.command.clone()))
        .set_environment(Some(env))
        .set_resource_requirements(Some(req))
        .set_job_role_arn(c.job_role_arn.clone())
        .set_execution_role_arn(c.execution_role_arn.clone())
        .build()
}

fn container_of(p: &ContainerProperties) -> JobContainer {
    let mut c = JobContainer {
        image: p.image().unwrap_or_default().to_string(),
        command: p.command().to_vec(),
        environment: p
            .environment()
            .iter()
            .map(|kv| {
                (
                    kv.name().unwrap_or_default().to_string(),
                    kv.value().unwrap_or_default().to_string(),
                )
            })
            .collect::<BTreeMap<_, _>>(),
        job_role_arn: p.job_role_arn().map(str::to_string),
        execution_role_arn: p.execution_role_arn().map(str::to_string),
        ..JobContainer::default()
    };
    for r in p.resource_requirements() {
        let value = r
            .value()
            .unwrap_or_default()
            .parse::<u32>()
            .unwrap_or_default();
        match r.r#type() {
            Some(ResourceType::Vcpu) => c.vcpus = value,
            Some(ResourceType::Memory) => c.memory = value,
            Some(ResourceType::Gpu) => c.gpus = value,
            _ => {}
        }
    }
    c
}

impl BatchApi for AwsCloud {
    async fn describe_compute_environments(
        &self,
        names: &[String],
    ) -> CloudResult<Vec<ComputeEnvironmentState>> {
        let mut found = Vec::new();
        for chunk in names.chunks(DESCRIBE_NAMES) {
            self.record("DescribeComputeEnvironments")?;
            let out = self
                .batch
                .describe_compute_environments()
                .set_compute_environments(Some(chunk.to_vec()))
                .send()
                .guarded(self, "DescribeComputeEnvironments")
                .await?
                .map_err(|e| self.sdk_error("DescribeComputeEnvironments", e))?;
            found.extend(out.compute_environments().iter().map(|c| {
                ComputeEnvironmentState {
                    spec: ComputeEnvironmentSpec {
                        name: c.compute_environment_name().unwrap_or_default().to_string(),
                        kind: c
                            .r#type()
                            .map(|t| t.as_str().to_string())
                            .unwrap_or_default(),
                        state: c
                            .state()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        service_role: c.service_role().unwrap_or_default().to_string(),
                        resources: c.compute_resources().map(resources_of),
                        tags: tags_of(c.tags()),
                    },
                    arn: c.compute_environment_arn().unwrap_or_default().to_string(),
                    status: c
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    status_reason: c.status_reason().map(str::to_string),
                }
            }));
        }
        found.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        Ok(found)
    }

    async fn create_compute_environment(
        &self,
        spec: &ComputeEnvironmentSpec,
    ) -> CloudResult<String> {
        self.record("CreateComputeEnvironment")?;
        let resources = spec.resources.as_ref().map(|r| {
            ComputeResource::builder()
                .r#type(CrType::from(r.kind.as_str()))
                .minv_cpus(r.min_vcpus as i32)
                .maxv_cpus(r.max_vcpus as i32)
                .desiredv_cpus(r.desired_vcpus as i32)
                .set_instance_types(
                    (!r.instance_types.is_empty()).then(|| r.instance_types.clone()),
                )
                .set_subnets(Some(r.subnets.clone()))
                .set_security_group_ids(Some(r.security_group_ids.clone()))
                .set_instance_role(r.instance_role.clone())
                .build()
        });
        let out = self
            .batch
            .create_compute_environment()
            .compute_environment_name(&spec.name)
            .r#type(CeType::from(spec.kind.as_str()))
            .state(CeState::from(spec.state.as_str()))
            .service_role(&spec.service_role)
            .set_compute_resources(resources)
            .set_tags(Some(tag_map(&spec.tags)))
            .send()
            .guarded(self, "CreateComputeEnvironment")
            .await?
            .map_err(|e| self.sdk_error(format!("CreateComputeEnvironment {}", spec.name), e))?;
        Ok(out
            .compute_environment_arn()
            .unwrap_or_default()
            .to_string())
    }

    async fn update_compute_environment(
        &self,
        name: &str,
        update: &ComputeEnvironmentUpdate,
    ) -> CloudResult<()> {
        self.record("UpdateComputeEnvironment")?;
        let resources = update.resources.as_ref().map(|r| {
            ComputeResourceUpdate::builder()
                .minv_cpus(r.min_vcpus as i32)
                .maxv_cpus(r.max_vcpus as i32)
                .desiredv_cpus(r.desired_vcpus as i32)
                .set_subnets(Some(r.subnets.clone()))
                .set_security_group_ids(Some(r.security_group_ids.clone()))
                .build()
        });
        self.batch
            .update_compute_environment()
            .compute_environment(name)
            .set_state(update.state.as_deref().map(CeState::from))
            .set_service_role(update.service_role.clone())
            .set_compute_resources(resources)
            .send()
            .guarded(self, "UpdateComputeEnvironment")
            .await?
            .map_err(|e| self.sdk_error(format!("UpdateComputeEnvironment {name}"), e))?;
        Ok(())
    }

    async fn delete_compute_environment(&self, name: &str) -> CloudResult<bool> {
        self.record("DeleteComputeEnvironment")?;
        match self
            .batch
            .delete_compute_environment()
            .compute_environment(name)
            .send()
            .guarded(self, "DeleteComputeEnvironment")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteComputeEnvironment {name}"), e)),
        }
    }

    async fn describe_job_queues(&self, names: &[String]) -> CloudResult<Vec<JobQueueState>> {
        let mut found = Vec::new();
        for chunk in names.chunks(DESCRIBE_NAMES) {
            found.extend(self.job_queues(Some(chunk.to_vec())).await?);
        }
        found.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        Ok(found)
    }

    async fn list_job_queues(&self) -> CloudResult<Vec<JobQueueState>> {
        let mut found = self.job_queues(None).await?;
        found.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        Ok(found)
    }

    async fn create_job_queue(&self, spec: &JobQueueSpec) -> CloudResult<String> {
        self.record("CreateJobQueue")?;
        let out = self
            .batch
            .create_job_queue()
            .job_queue_name(&spec.name)
            .state(JqState::from(spec.state.as_str()))
            .priority(spec.priority)
            .set_compute_environment_order(Some(order(&spec.compute_environments)))
            .set_tags(Some(tag_map(&spec.tags)))
            .send()
            .guarded(self, "CreateJobQueue")
            .await?
            .map_err(|e| self.sdk_error(format!("CreateJobQueue {}", spec.name), e))?;
        Ok(out.job_queue_arn().unwrap_or_default().to_string())
    }

    async fn update_job_queue(&self, name: &str, update: &JobQueueUpdate) -> CloudResult<()> {
        self.record("UpdateJobQueue")?;
        self.batch
            .update_job_queue()
            .job_queue(name)
            .set_state(update.state.as_deref().map(JqState::from))
            .set_priority(update.priority)
            .set_compute_environment_order(update.compute_environments.as_deref().map(order))
            .send()
            .guarded(self, "UpdateJobQueue")
            .await?
            .map_err(|e| self.sdk_error(format!("UpdateJobQueue {name}"), e))?;
        Ok(())
    }

    async fn delete_job_queue(&self, name: &str) -> CloudResult<bool> {
        self.record("DeleteJobQueue")?;
        match self
            .batch
            .delete_job_queue()
            .job_queue(name)
            .send()
            .guarded(self, "DeleteJobQueue")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteJobQueue {name}"), e)),
        }
    }

    async fn describe_job_definitions(&self, name: &str) -> CloudResult<Vec<JobDefinitionState>> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.record("DescribeJobDefinitions")?;
            let out = self
                .batch
                .describe_job_definitions()
                .job_definition_name(name)
                .status("ACTIVE")
                .set_next_token(token.take())
                .send()
                .guarded(self, "DescribeJobDefinitions")
                .await?
                .map_err(|e| self.sdk_error(format!("DescribeJobDefinitions {name}"), e))?;
            for d in out.job_definitions() {
                if d.job_definition_name() != Some(name) || d.status() != Some("ACTIVE") {
                    continue;
                }
                let nodes = d.node_properties();
                let container = d
                    .container_properties()
                    .or_else(|| {
                        nodes
                            .and_then(|n| n.node_range_properties().first())
                            .and_then(|r| r.container())
                    })
                    .map(container_of)
                    .unwrap_or_default();
                found.push(JobDefinitionState {
                    spec: JobDefinitionSpec {
                        name: d.job_definition_name().unwrap_or_default().to_string(),
                        platform: d
                            .platform_capabilities()
                            .first()
                            .map(|p| p.as_str().to_string())
                            .unwrap_or_else(|| "EC2".into()),
                        container,
                        nodes: nodes.map(|n| JobNodes {
                            count: n.num_nodes().unwrap_or_default().max(0) as u32,
                            main: n.main_node().unwrap_or_default().max(0) as u32,
                        }),
                        tags: tags_of(d.tags()),
                    },
                    arn: d.job_definition_arn().unwrap_or_default().to_string(),
                    revision: i64::from(d.revision().unwrap_or_default()),
                    status: d.status().unwrap_or_default().to_string(),
                });
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        found.sort_by_key(|d| d.revision);
        Ok(found)
    }

    async fn register_job_definition(
        &self,
        spec: &JobDefinitionSpec,
    ) -> CloudResult<(String, i64)> {
        self.record("RegisterJobDefinition")?;
        let container = container_properties(&spec.container);
        let mut req = self
            .batch
            .register_job_definition()
            .job_definition_name(&spec.name)
            .platform_capabilities(PlatformCapability::from(spec.platform.as_str()))
            .set_tags(Some(tag_map(&spec.tags)));
        req = match &spec.nodes {
            Some(n) => req.r#type(JobDefinitionType::Multinode).node_properties(
                NodeProperties::builder()
                    .num_nodes(n.count as i32)
                    .main_node(n.main as i32)
                    .node_range_properties(
                        NodeRangeProperty::builder()
                            .target_nodes("0:")
                            .container(container)
                            .build(),
                    )
                    .build(),
            ),
            None => req
                .r#type(JobDefinitionType::Container)
                .container_properties(container),
        };
        let out = req
            .send()
            .guarded(self, "RegisterJobDefinition")
            .await?
            .map_err(|e| self.sdk_error(format!("RegisterJobDefinition {}", spec.name), e))?;
        Ok((
            out.job_definition_arn().unwrap_or_default().to_string(),
            i64::from(out.revision().unwrap_or_default()),
        ))
    }

    async fn deregister_job_definition(&self, arn: &str) -> CloudResult<()> {
        self.record("DeregisterJobDefinition")?;
        match self
            .batch
            .deregister_job_definition()
            .job_definition(arn)
            .send()
            .guarded(self, "DeregisterJobDefinition")
            .await?
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(self.sdk_error(format!("DeregisterJobDefinition {arn}"), e)),
        }
    }

    async fn tag_batch_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.record("TagResource")?;
        self.batch
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tag_map(tags)))
            .send()
            .guarded(self, "TagResource")
            .await?
            .map_err(|e| self.sdk_error(format!("TagResource {arn}"), e))?;
        Ok(())
    }
}

fn order(arns: &[String]) -> Vec<ComputeEnvironmentOrder> {
    arns.iter()
        .enumerate()
        .map(|(i, arn)| {
            ComputeEnvironmentOrder::builder()
                .order(i as i32 + 1)
                .compute_environment(arn)
                .build()
        })
        .collect()
}

impl AwsCloud {
    /// DescribeJobQueues of these names (or of all, every page).
    async fn job_queues(&self, names: Option<Vec<String>>) -> CloudResult<Vec<JobQueueState>> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.record("DescribeJobQueues")?;
            let out = self
                .batch
                .describe_job_queues()
                .set_job_queues(names.clone())
                .set_next_token(token.take())
                .send()
                .guarded(self, "DescribeJobQueues")
                .await?
                .map_err(|e| self.sdk_error("DescribeJobQueues", e))?;
            found.extend(out.job_queues().iter().map(|q| {
                let mut order: Vec<(i32, String)> = q
                    .compute_environment_order()
                    .iter()
                    .map(|o| {
                        (
                            o.order().unwrap_or_default(),
                            o.compute_environment().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                order.sort();
                JobQueueState {
                    spec: JobQueueSpec {
                        name: q.job_queue_name().unwrap_or_default().to_string(),
                        state: q
                            .state()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        priority: q.priority().unwrap_or_default(),
                        compute_environments: order.into_iter().map(|(_, a)| a).collect(),
                        tags: tags_of(q.tags()),
                    },
                    arn: q.job_queue_arn().unwrap_or_default().to_string(),
                    status: q
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    status_reason: q.status_reason().map(str::to_string),
                }
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(found)
    }
}
