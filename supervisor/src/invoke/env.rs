//! The environment the user's script sees (`schemas/script-env.schema.json`):
//! the supervisor's own environment, the container variables, `CONT_VAR_*`
//! from API query parameters, then the per-invocation variables, which win.

use std::path::Path;

use super::{Invocation, Supervisor};
use crate::event::{Event, Input};
use crate::workspace::Workspace;

/// `EVENT` is left out above this size: one environment string cannot exceed
/// 128 KiB on Linux, and the raw event is also in the input file.
pub const MAX_EVENT_ENV: usize = 64 * 1024;

pub fn script_env(
    sup: &Supervisor,
    inv: &Invocation,
    ev: &Event,
    ws: &Workspace,
    input_path: Option<&Path>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for (k, v) in &sup.config.config.container.environment.variables {
        if valid_pair(k, v) {
            env.push((k.clone(), v.clone()));
        }
    }
    for (k, v) in &ev.query_vars {
        env.push((format!("CONT_VAR_{k}"), v.clone()));
    }
    let mut set = |k: &str, v: String| env.push((k.to_string(), v));
    set("TMP_INPUT_DIR", ws.input_dir().display().to_string());
    set("TMP_OUTPUT_DIR", ws.output_dir().display().to_string());
    if let Some(p) = input_path {
        set("INPUT_FILE_PATH", p.display().to_string());
    }
    if let Input::S3(obj) = &ev.input {
        set("STORAGE_OBJECT_KEY", obj.key.clone());
        set("STORAGE_BUCKET", obj.bucket.clone());
    }
    if let Some(t) = &ev.event_time {
        set("EVENT_TIME", t.clone());
    }
    if ev.raw.len() <= MAX_EVENT_ENV && !ev.raw.contains('\0') {
        set("EVENT", ev.raw.clone());
    } else {
        tracing::warn!(
            bytes = ev.raw.len(),
            "EVENT not set: the event is too large for an environment variable"
        );
    }
    set("REQUEST_ID", inv.ids.request_id.clone());
    set("AWS_LAMBDA_REQUEST_ID", inv.ids.request_id.clone());
    env
}

fn valid_pair(k: &str, v: &str) -> bool {
    let ok = !k.is_empty() && !k.contains('=') && !k.contains('\0') && !v.contains('\0');
    if !ok {
        tracing::warn!(variable = %k, "container variable skipped: not a valid environment variable");
    }
    ok
}
