//! The in-memory double of AWS Batch, as AWS documents it where moto is
//! lax: a compute environment or queue is deleted only once DISABLED, an
//! environment not while a queue uses it, a queue only on environments
//! that exist; revisions of a job definition only grow. Everything is
//! VALID at once (the waits are tested with [`MemoryCloud::fail_next`]).

use std::collections::BTreeMap;
use std::sync::MutexGuard;

use super::{error, not_found, MemoryCloud};
use crate::cloud::{
    BatchApi, CloudResult, ComputeEnvironmentSpec, ComputeEnvironmentState,
    ComputeEnvironmentUpdate, ErrorKind, JobDefinitionSpec, JobDefinitionState, JobQueueSpec,
    JobQueueState, JobQueueUpdate, Tags, DESCRIBE_NAMES,
};

/// Items per page of DescribeJobQueues and DescribeJobDefinitions.
const PAGE: usize = 100;

/// The account's Batch resources.
#[derive(Default)]
pub(super) struct BatchState {
    environments: BTreeMap<String, ComputeEnvironmentState>,
    queues: BTreeMap<String, JobQueueState>,
    /// Name → (last revision registered, every revision by number).
    definitions: BTreeMap<String, (i64, BTreeMap<i64, JobDefinitionState>)>,
}

impl MemoryCloud {
    /// Counts the request (and fails it if told to), then holds the Batch
    /// state.
    fn batch_call(
        &self,
        operation: &'static str,
        target: &str,
    ) -> CloudResult<MutexGuard<'_, BatchState>> {
        drop(self.call(operation, target)?);
        Ok(self
            .batch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    fn batch_arn(&self, what: &str, name: &str) -> String {
        format!(
            "arn:aws:batch:{}:{}:{what}/{name}",
            self.region, self.account_id
        )
    }

    /// Sets a compute environment's status (`INVALID`, with a reason), as
    /// AWS does when it cannot use what it was given.
    pub fn set_compute_environment_status(&self, name: &str, status: &str, reason: &str) {
        if let Some(ce) = self.batch.lock().unwrap().environments.get_mut(name) {
            ce.status = status.to_string();
            ce.status_reason = Some(reason.to_string());
        }
    }
}

fn pages_of(n: usize) -> usize {
    n.div_ceil(PAGE).max(1)
}

impl BatchApi for MemoryCloud {
    async fn describe_compute_environments(
        &self,
        names: &[String],
    ) -> CloudResult<Vec<ComputeEnvironmentState>> {
        let mut found = Vec::new();
        for chunk in names.chunks(DESCRIBE_NAMES) {
            let state = self.batch_call("DescribeComputeEnvironments", &chunk.join(","))?;
            found.extend(
                chunk
                    .iter()
                    .filter_map(|n| state.environments.get(n))
                    .cloned(),
            );
        }
        found.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        found.dedup_by(|a, b| a.spec.name == b.spec.name);
        Ok(found)
    }

    async fn create_compute_environment(
        &self,
        spec: &ComputeEnvironmentSpec,
    ) -> CloudResult<String> {
        const OP: &str = "CreateComputeEnvironment";
        let mut state = self.batch_call(OP, &spec.name)?;
        if state.environments.contains_key(&spec.name) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::AlreadyExists,
                "Object already exists",
            ));
        }
        if spec.kind == "MANAGED" && spec.resources.as_ref().is_none_or(|r| r.subnets.is_empty()) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::Invalid,
                "computeResources.subnets is required",
            ));
        }
        let arn = self.batch_arn("compute-environment", &spec.name);
        state.environments.insert(
            spec.name.clone(),
            ComputeEnvironmentState {
                spec: spec.clone(),
                arn: arn.clone(),
                status: "VALID".into(),
                status_reason: None,
            },
        );
        Ok(arn)
    }

    async fn update_compute_environment(
        &self,
        name: &str,
        update: &ComputeEnvironmentUpdate,
    ) -> CloudResult<()> {
        const OP: &str = "UpdateComputeEnvironment";
        let mut state = self.batch_call(OP, name)?;
        let ce = state
            .environments
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        if let Some(s) = &update.state {
            ce.spec.state = s.clone();
        }
        if let Some(r) = &update.service_role {
            ce.spec.service_role = r.clone();
        }
        if let (Some(new), Some(have)) = (&update.resources, ce.spec.resources.as_mut()) {
            have.min_vcpus = new.min_vcpus;
            have.max_vcpus = new.max_vcpus;
            have.desired_vcpus = new.desired_vcpus;
            have.subnets = new.subnets.clone();
            have.security_group_ids = new.security_group_ids.clone();
        }
        Ok(())
    }

    async fn delete_compute_environment(&self, name: &str) -> CloudResult<bool> {
        const OP: &str = "DeleteComputeEnvironment";
        let mut state = self.batch_call(OP, name)?;
        let Some(ce) = state.environments.get(name) else {
            return Ok(false);
        };
        if ce.spec.state != "DISABLED" {
            return Err(error(OP, name, ErrorKind::Invalid, "Cannot delete, found existing JobQueue relationship or the environment is not DISABLED"));
        }
        let arn = ce.arn.clone();
        if state
            .queues
            .values()
            .any(|q| q.spec.compute_environments.contains(&arn))
        {
            return Err(error(
                OP,
                name,
                ErrorKind::InUse,
                "Cannot delete, found existing JobQueue relationship",
            ));
        }
        state.environments.remove(name);
        Ok(true)
    }

    async fn describe_job_queues(&self, names: &[String]) -> CloudResult<Vec<JobQueueState>> {
        let mut found = Vec::new();
        for chunk in names.chunks(DESCRIBE_NAMES) {
            let state = self.batch_call("DescribeJobQueues", &chunk.join(","))?;
            found.extend(chunk.iter().filter_map(|n| state.queues.get(n)).cloned());
        }
        found.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        found.dedup_by(|a, b| a.spec.name == b.spec.name);
        Ok(found)
    }

    async fn list_job_queues(&self) -> CloudResult<Vec<JobQueueState>> {
        let state = self.batch_call("DescribeJobQueues", "")?;
        let all: Vec<JobQueueState> = state.queues.values().cloned().collect();
        for _ in 1..pages_of(all.len()) {
            self.requests.record("DescribeJobQueues");
        }
        Ok(all)
    }

    async fn create_job_queue(&self, spec: &JobQueueSpec) -> CloudResult<String> {
        const OP: &str = "CreateJobQueue";
        let mut state = self.batch_call(OP, &spec.name)?;
        if state.queues.contains_key(&spec.name) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::AlreadyExists,
                "Object already exists",
            ));
        }
        let known = |arn: &String| state.environments.values().any(|c| &c.arn == arn);
        if spec.compute_environments.is_empty() || !spec.compute_environments.iter().all(known) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::Invalid,
                "computeEnvironmentOrder is malformed",
            ));
        }
        let arn = self.batch_arn("job-queue", &spec.name);
        state.queues.insert(
            spec.name.clone(),
            JobQueueState {
                spec: spec.clone(),
                arn: arn.clone(),
                status: "VALID".into(),
                status_reason: None,
            },
        );
        Ok(arn)
    }

    async fn update_job_queue(&self, name: &str, update: &JobQueueUpdate) -> CloudResult<()> {
        const OP: &str = "UpdateJobQueue";
        let mut state = self.batch_call(OP, name)?;
        let q = state
            .queues
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        if let Some(s) = &update.state {
            q.spec.state = s.clone();
        }
        if let Some(p) = update.priority {
            q.spec.priority = p;
        }
        if let Some(order) = &update.compute_environments {
            q.spec.compute_environments = order.clone();
        }
        Ok(())
    }

    async fn delete_job_queue(&self, name: &str) -> CloudResult<bool> {
        const OP: &str = "DeleteJobQueue";
        let mut state = self.batch_call(OP, name)?;
        let Some(q) = state.queues.get(name) else {
            return Ok(false);
        };
        if q.spec.state != "DISABLED" {
            return Err(error(
                OP,
                name,
                ErrorKind::Invalid,
                "the job queue must be DISABLED before it is deleted",
            ));
        }
        state.queues.remove(name);
        Ok(true)
    }

    async fn describe_job_definitions(&self, name: &str) -> CloudResult<Vec<JobDefinitionState>> {
        let state = self.batch_call("DescribeJobDefinitions", name)?;
        let active: Vec<JobDefinitionState> = state
            .definitions
            .get(name)
            .map(|(_, revs)| {
                revs.values()
                    .filter(|d| d.status == "ACTIVE")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for _ in 1..pages_of(active.len()) {
            self.requests.record("DescribeJobDefinitions");
        }
        Ok(active)
    }

    async fn register_job_definition(
        &self,
        spec: &JobDefinitionSpec,
    ) -> CloudResult<(String, i64)> {
        const OP: &str = "RegisterJobDefinition";
        let mut state = self.batch_call(OP, &spec.name)?;
        if spec.container.image.is_empty() {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::Invalid,
                "containerProperties.image is required",
            ));
        }
        let arn_base = self.batch_arn("job-definition", &spec.name);
        let (last, revs) = state.definitions.entry(spec.name.clone()).or_default();
        *last += 1;
        let revision = *last;
        let arn = format!("{arn_base}:{revision}");
        revs.insert(
            revision,
            JobDefinitionState {
                spec: spec.clone(),
                arn: arn.clone(),
                revision,
                status: "ACTIVE".into(),
            },
        );
        Ok((arn, revision))
    }

    async fn deregister_job_definition(&self, arn: &str) -> CloudResult<()> {
        const OP: &str = "DeregisterJobDefinition";
        let mut state = self.batch_call(OP, arn)?;
        for (_, revs) in state.definitions.values_mut() {
            for d in revs.values_mut() {
                if d.arn == arn {
                    d.status = "INACTIVE".into();
                }
            }
        }
        Ok(())
    }

    async fn tag_batch_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        let mut state = self.batch_call(OP, arn)?;
        let mut hit = false;
        let BatchState {
            environments,
            queues,
            definitions,
        } = &mut *state;
        let tag = |t: &mut Tags| t.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        for ce in environments.values_mut().filter(|c| c.arn == arn) {
            tag(&mut ce.spec.tags);
            hit = true;
        }
        for q in queues.values_mut().filter(|q| q.arn == arn) {
            tag(&mut q.spec.tags);
            hit = true;
        }
        for (_, revs) in definitions.values_mut() {
            for d in revs.values_mut().filter(|d| d.arn == arn) {
                tag(&mut d.spec.tags);
                hit = true;
            }
        }
        if hit {
            Ok(())
        } else {
            Err(not_found(OP, arn))
        }
    }
}
