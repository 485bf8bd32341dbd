//! `lambda_layer`: the supervisor, one version per content hash, shared
//! by every workflow. A version scar published that no function uses any
//! longer (an observed fact) is deleted, after the workflow's functions
//! have moved off it; a new build is a new version, never a replacement.

use serde_json::Value;

use super::{Found, KindRules, PlanContext, Removal, Replacement};
use crate::model::{Addr, Kind, Observed, FACT_UNUSED_LAYER};

pub struct LambdaLayer;

impl KindRules for LambdaLayer {
    fn create_reason(&self) -> &'static str {
        "no layer version holds this supervisor build"
    }

    fn unmanaged(&self) -> Found {
        // Content-addressed and shared: the version of this build is used.
        Found::Adopt(None)
    }

    fn replacement(&self) -> Replacement {
        Replacement::InPlace
    }

    fn removal(&self, have: &Observed, ctx: &PlanContext) -> Removal {
        if have.facts.get(FACT_UNUSED_LAYER) != Some(&Value::Bool(true)) {
            return Removal::Skip;
        }
        Removal::Delete {
            reason: "a supervisor layer version scar published that no function uses any longer"
                .into(),
            after: ctx
                .desired_functions
                .iter()
                .map(|f| Addr::new(Kind::LambdaFunction, *f))
                .collect(),
        }
    }
}
