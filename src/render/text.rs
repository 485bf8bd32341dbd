//! The text plan: `+` create, `~` update, `-/+` replace, `-` delete, with
//! per-attribute before → after, `# forces replacement`, unified diffs for
//! multi-line values and a `Plan: N to add, ...` summary.

use std::fmt::Write;

use serde_json::Value;

use super::mask;
use crate::plan::{Action, AttrDiff, Change, Plan, UNKNOWN};

/// Renders a plan as text.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let changes: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if changes
        .iter()
        .all(|c| !c.action.is_change() && c.action != Action::Blocked)
    {
        for c in &changes {
            let _ = writeln!(out, "  # {} is kept: {}", c.address, c.reason);
        }
        if !changes.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "No changes. The account matches the manifests of workflow `{}`.",
            plan.workflow
        );
        return out;
    }
    let _ = writeln!(
        out,
        "scar will perform the following actions for workflow `{}`:\n",
        plan.workflow
    );
    for c in changes {
        render_change(&mut out, c);
        out.push('\n');
    }
    let s = plan.summary();
    let _ = write!(
        out,
        "Plan: {} to add, {} to change, {} to destroy.",
        s.add, s.change, s.destroy
    );
    if s.blocked > 0 {
        let _ = write!(out, " {} blocked.", s.blocked);
    }
    out.push('\n');
    out
}

fn render_change(out: &mut String, c: &Change) {
    let (sym, verb) = match c.action {
        Action::Create => ("  +", "will be created"),
        Action::Update => ("  ~", "will be updated in-place"),
        Action::Replace => ("-/+", "must be replaced"),
        Action::Delete => ("  -", "will be destroyed"),
        Action::Keep => ("   ", "is kept"),
        Action::Blocked => ("  !", "is blocked"),
        Action::NoOp => ("   ", "is up to date"),
    };
    let _ = writeln!(out, "  # {} {verb}", c.address);
    let _ = writeln!(out, "  # ({})", c.reason);
    if matches!(c.action, Action::Keep | Action::Blocked) {
        return;
    }
    let _ = writeln!(
        out,
        "{sym} {} \"{}\" {{",
        c.address.kind.as_str(),
        c.address.name
    );
    let width = c.diffs.iter().map(|d| d.name.len()).max().unwrap_or(0);
    for d in &c.diffs {
        render_attr(out, c.action, d, width);
    }
    let _ = writeln!(out, "    }}");
}

fn render_attr(out: &mut String, action: Action, d: &AttrDiff, width: usize) {
    let after = d.after.as_ref().map(|v| mask(v, d));
    let before = d.before.as_ref().map(|v| mask(v, d));
    let force = if d.forces_replacement {
        " # forces replacement"
    } else {
        ""
    };
    let name = format!("{:width$}", d.name);
    // Multi-line text: a unified diff.
    let multiline = |v: &Option<Value>| {
        v.as_ref()
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains('\n'))
    };
    if multiline(&after) || multiline(&before) {
        let old = before.as_ref().and_then(Value::as_str).unwrap_or("");
        let new = after.as_ref().and_then(Value::as_str).unwrap_or("");
        let sym = if before.is_none() { "+" } else { "~" };
        let _ = writeln!(out, "      {sym} {name} = <<-EOT{force}");
        let diff = similar::TextDiff::from_lines(old, new);
        for change in diff.iter_all_changes() {
            let tag = match change.tag() {
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
                similar::ChangeTag::Equal => " ",
            };
            let line = change.value().trim_end_matches('\n');
            let _ = writeln!(out, "          {tag} {line}");
        }
        let _ = writeln!(out, "        EOT");
        return;
    }
    let show = |v: &Option<Value>| match v {
        Some(v) => compact(v),
        None => UNKNOWN.to_string(),
    };
    match (action, &before) {
        (Action::Create, _) | (_, None) => {
            let _ = writeln!(out, "      + {name} = {}{force}", show(&after));
        }
        _ => {
            let _ = writeln!(
                out,
                "      ~ {name} = {} -> {}{force}",
                show(&before),
                show(&after)
            );
        }
    }
}

/// A one-line rendering of a value: strings quoted, lists and maps inline.
pub fn compact(v: &Value) -> String {
    match v {
        Value::String(s) if s == UNKNOWN || s == super::SENSITIVE => s.clone(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => v.to_string(),
    }
}
