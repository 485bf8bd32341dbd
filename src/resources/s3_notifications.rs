//! `s3_notifications`: this workflow's entries in a bucket's notification
//! configuration (others' entries are never touched). Rewritten in place;
//! it needs its bucket and the permissions that let S3 invoke its
//! functions.

use super::{s3_permission_sid, Found, KindRules, PlanContext, Removal, Replacement};
use crate::model::{Addr, Kind, Observed, ObservedState};

pub struct S3Notifications;

impl KindRules for S3Notifications {
    fn unmanaged(&self) -> Found {
        // Only entries whose ids are this workflow's are ever observed.
        Found::Adopt(None)
    }

    fn replacement(&self) -> Replacement {
        Replacement::InPlace
    }

    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        let bucket = have.addr.name.clone();
        let sid = format!("/{}", s3_permission_sid(&bucket));
        let mut deps: Vec<Addr> = observed
            .resources
            .keys()
            .filter(|a| a.kind == Kind::LambdaPermission && a.name.ends_with(&sid))
            .cloned()
            .collect();
        deps.push(Addr::new(Kind::S3Bucket, bucket));
        deps
    }

    fn removal(&self, _have: &Observed, _ctx: &PlanContext) -> Removal {
        Removal::Delete {
            reason: "this workflow's entries are no longer wanted; other entries are kept".into(),
            after: Vec::new(),
        }
    }
}
