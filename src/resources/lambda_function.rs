//! `lambda_function`: replaced by delete, then create (its name is its
//! key); while it exists it needs its role and the layer versions it runs
//! on, so those are deleted after it.

use std::collections::BTreeSet;

use serde_json::Value;

use super::KindRules;
use crate::model::{Addr, Kind, Observed, ObservedState};

pub struct LambdaFunction;

impl KindRules for LambdaFunction {
    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        let layers: BTreeSet<&str> = have
            .attrs
            .get("layers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let role = have
            .attrs
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or_default();
        observed
            .resources
            .values()
            .filter(|o| {
                let arn = o.outputs.get("arn").map(String::as_str);
                match o.addr.kind {
                    Kind::IamRole => arn == Some(role),
                    Kind::LambdaLayer => arn.is_some_and(|a| layers.contains(a)),
                    _ => false,
                }
            })
            .map(|o| o.addr.clone())
            .collect()
    }
}
