//! Manifest → DesiredState: the resources one workflow needs, each with a
//! stable address, normalized attributes and its dependencies, by asking
//! every kind ([`crate::resources::desire`]). Pure: the packages and the
//! supervisor layer's hash are given, not read here. What scar cannot
//! deploy yet is set aside here, with why.

use std::collections::BTreeSet;

use crate::manifest::{FunctionDef, Manifest};
pub use crate::model::DesiredState;
pub use crate::resources::Context;
use crate::resources::Desire;

/// The supervisor layer names a manifest's functions use.
pub fn layer_names(m: &Manifest) -> BTreeSet<String> {
    m.functions
        .iter()
        .map(|f| f.spec.lambda.supervisor.layer_name.clone())
        .collect()
}

/// Builds the desired state of a manifest.
pub fn desire(m: &Manifest, ctx: &Context) -> DesiredState {
    let mut d = DesiredState {
        workflow: m.workflow.clone(),
        layer_names: layer_names(m),
        protected: crate::resources::protected(m),
        ..Default::default()
    };
    let mut deployable: Vec<&FunctionDef> = Vec::new();
    for f in &m.functions {
        if let Some(why) = unsupported(f) {
            d.unsupported.push((f.name().to_string(), why));
        } else {
            deployable.push(f);
        }
    }
    if deployable.is_empty() {
        return d;
    }
    let wants = Desire {
        workflow: &m.workflow,
        functions: &deployable,
        ctx,
    };
    crate::resources::desire(&wants, &mut d);
    d
}

/// Whether scar can deploy a function (see [`unsupported`]).
pub fn deployable(f: &FunctionDef) -> bool {
    unsupported(f).is_none()
}

/// Why a function cannot be deployed by scar yet, if it cannot.
fn unsupported(f: &FunctionDef) -> Option<String> {
    let l = &f.spec.lambda;
    if l.container.image.is_none() && l.runtime.as_deref() == Some("image") {
        return Some("`runtime: image` needs a `container.image`".into());
    }
    if l.execution_mode.uses_batch() && l.container.image.is_none() {
        return Some("AWS Batch runs the function's container image: `execution_mode: batch` and `lambda-batch` need a `container.image`".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::load_texts;
    use crate::model::{Addr, Kind};

    fn ctx() -> Context {
        Context::for_tests()
    }

    #[test]
    fn a_triggered_function_expands_to_its_graph() {
        let m = load_texts(&[(
            "m.yaml",
            "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: f\n      input:\n      - storage_provider: s3\n        path: b/in\n      output:\n      - storage_provider: s3\n        path: c/out\n",
        )])
        .manifest
        .unwrap();
        let d = desire(&m, &ctx());
        let addrs: Vec<String> = d.resources.keys().map(|a| a.to_string()).collect();
        assert_eq!(
            addrs,
            [
                "lambda_layer.scar-supervisor",
                "iam_role.scar-wf",
                "s3_bucket.b",
                "s3_bucket.c",
                "lambda_function.f",
                "log_group./aws/lambda/f",
                "lambda_permission.f/scar-s3-b",
                "s3_notifications.b",
            ]
        );
        let policy = &d.resources[&Addr::new(Kind::IamRole, "scar-wf")].attrs["policy"];
        let text = policy.to_string();
        assert!(text.contains("arn:aws:s3:::b/in/*") && text.contains("arn:aws:s3:::c/out/*"));
        assert!(!text.contains("s3:*") && !text.contains("\"*\""));
        let n = &d.resources[&Addr::new(Kind::S3Notifications, "b")].attrs["entries"][0];
        assert_eq!(n["prefix"], "in/");
        assert!(n["id"].as_str().unwrap().starts_with("scar-wf-f-"));
    }
}
