//! The text plan: `+` create, `~` update, `-/+` replace, `-` delete, with
//! per-attribute before → after, `# forces replacement`, unified diffs for
//! multi-line values and a `Plan: N to add, ...` summary.

use std::fmt::Write;

use serde_json::Value;

use super::masked;
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
        render_outputs(&mut out, &plan.outputs);
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
    out.push_str(&s.line());
    if s.blocked > 0 {
        let _ = write!(out, " {} blocked.", s.blocked);
    }
    out.push('\n');
    render_outputs(&mut out, &plan.outputs);
    out
}

/// The `Outputs:` section, as terraform prints it after apply and with a
/// plan that changes nothing.
pub fn render_outputs(out: &mut String, outputs: &[crate::plan::PlanOutput]) {
    if outputs.is_empty() {
        return;
    }
    out.push_str("\nOutputs:\n\n");
    for o in outputs {
        let _ = writeln!(out, "{}.{} = {}", o.address, o.name, shown(o));
    }
}

fn shown(o: &crate::plan::PlanOutput) -> String {
    match &o.value {
        Some(v) => format!("\"{v}\""),
        None => UNKNOWN.to_string(),
    }
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
    let (before, after) = masked(d);
    let force = if d.forces_replacement {
        " # forces replacement"
    } else {
        ""
    };
    let name = format!("{:width$}", d.name);
    if let Some((old, new)) = as_text_block(before.as_ref(), after.as_ref()) {
        let sym = if before.is_none() { "+" } else { "~" };
        let _ = writeln!(out, "      {sym} {name} = <<-EOT{force}");
        write_diff(out, &old, &new);
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

/// Values shown as a block with a line diff: multi-line text (scripts,
/// configs), and maps or lists too long for one line (policies), as
/// pretty-printed JSON.
fn as_text_block(before: Option<&Value>, after: Option<&Value>) -> Option<(String, String)> {
    let multiline = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| s.contains('\n'));
    if multiline(before) || multiline(after) {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        return Some((text(before), text(after)));
    }
    let long = |v: Option<&Value>| {
        v.is_some_and(|v| (v.is_object() || v.is_array()) && compact(v).len() > BLOCK_WIDTH)
    };
    if long(before) || long(after) {
        let pretty = |v: Option<&Value>| match v {
            Some(v) if !v.is_null() => {
                let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
                s.push('\n');
                s
            }
            _ => String::new(),
        };
        return Some((pretty(before), pretty(after)));
    }
    None
}

/// Maps and lists longer than this are shown as blocks.
const BLOCK_WIDTH: usize = 72;

/// Lines of unchanged context around each change of a block.
const CONTEXT: usize = 3;

/// A line diff of two texts: `-`/`+` lines with a few unchanged lines of
/// context around each change; `...` where unchanged lines are left out.
fn write_diff(out: &mut String, old: &str, new: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    let groups = diff.grouped_ops(CONTEXT);
    let last_line = diff.old_slices().len().max(diff.new_slices().len());
    for (i, group) in groups.iter().enumerate() {
        let starts_late = group
            .first()
            .is_some_and(|op| op.old_range().start > 0 || op.new_range().start > 0);
        if i > 0 || starts_late {
            let _ = writeln!(out, "          ...");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => " ",
                };
                let line = change.value().trim_end_matches('\n');
                let _ = writeln!(out, "          {tag} {line}");
            }
        }
        let ends_early = group.last().is_some_and(|op| {
            op.old_range().end < diff.old_slices().len()
                || op.new_range().end < diff.new_slices().len()
        });
        if i + 1 == groups.len() && ends_early && last_line > 0 {
            let _ = writeln!(out, "          ...");
        }
    }
}

/// A one-line rendering of a value: strings quoted, lists and maps inline.
pub fn compact(v: &Value) -> String {
    match v {
        Value::String(s)
            if s == UNKNOWN || s == super::SENSITIVE || s == super::SENSITIVE_CHANGED =>
        {
            s.clone()
        }
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(name: &str, before: Value, after: Value) -> AttrDiff {
        AttrDiff {
            name: name.into(),
            before: Some(before),
            after: Some(after),
            after_unknown: false,
            forces_replacement: false,
            sensitive: Vec::new(),
        }
    }

    #[test]
    fn long_texts_show_only_the_changed_lines_with_context() {
        let old: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 20\n", "line twenty\n");
        let mut out = String::new();
        render_attr(
            &mut out,
            Action::Update,
            &diff("init_script", json!(old), json!(new)),
            11,
        );
        let expected = "      ~ init_script = <<-EOT
          ...
            line 17
            line 18
            line 19
          - line 20
          + line twenty
            line 21
            line 22
            line 23
          ...
        EOT
";
        assert_eq!(out, expected);
    }

    #[test]
    fn long_maps_are_diffed_as_pretty_json_and_masked() {
        let before = json!({"Statement": [{"Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::in/uploads/*"]}], "Version": "2012-10-17"});
        let after = json!({"Statement": [{"Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::in/photos/*"]}], "Version": "2012-10-17"});
        let mut out = String::new();
        render_attr(&mut out, Action::Update, &diff("policy", before, after), 6);
        assert!(out.contains("~ policy = <<-EOT"), "{out}");
        assert!(
            out.contains("-         \"arn:aws:s3:::in/uploads/*\""),
            "{out}"
        );
        assert!(
            out.contains("+         \"arn:aws:s3:::in/photos/*\""),
            "{out}"
        );

        let mut d = diff(
            "environment",
            json!({"API_TOKEN": "old-secret-value", "MODE": "fast", "PADDING": "x".repeat(60)}),
            json!({"API_TOKEN": "new-secret-value", "MODE": "slow", "PADDING": "x".repeat(60)}),
        );
        d.sensitive = vec!["API_TOKEN".into()];
        let mut out = String::new();
        render_attr(&mut out, Action::Update, &d, 11);
        assert!(!out.contains("secret-value"), "{out}");
        assert!(out.contains("+   \"MODE\": \"slow\""), "{out}");
        // Short values stay on one line.
        let mut out = String::new();
        render_attr(
            &mut out,
            Action::Update,
            &diff("layers", json!(["a"]), json!(["b"])),
            6,
        );
        assert_eq!(out, "      ~ layers = [\"a\"] -> [\"b\"]\n");
    }

    #[test]
    fn a_change_to_a_secret_alone_shows_as_a_changed_sensitive_value() {
        // A whole-value secret and a secret key of a map: the diff is not
        // empty, and neither value shows.
        let mut d = diff(
            "token",
            json!("aaa"),
            json!("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        );
        d.sensitive = vec![String::new()];
        let mut out = String::new();
        render_attr(&mut out, Action::Update, &d, 5);
        assert_eq!(
            out,
            "      ~ token = (sensitive value) -> (sensitive value changed)\n"
        );
        let mut d = diff(
            "environment",
            json!({"DB_PASS": "hunter2", "MODE": "fast"}),
            json!({"DB_PASS": "hunter3", "MODE": "fast"}),
        );
        d.sensitive = vec!["DB_PASS".into()];
        let mut out = String::new();
        render_attr(&mut out, Action::Update, &d, 11);
        assert!(!out.contains("hunter"), "{out}");
        assert!(
            out.contains("-> {\"DB_PASS\":\"(sensitive value changed)\""),
            "{out}"
        );
        // Unchanged secrets stay plainly masked, whatever their length.
        let mut d = diff(
            "environment",
            json!({"DB_PASS": "x", "MODE": "fast"}),
            json!({"DB_PASS": "x", "MODE": "slow"}),
        );
        d.sensitive = vec!["DB_PASS".into()];
        let mut out = String::new();
        render_attr(&mut out, Action::Update, &d, 11);
        assert!(!out.contains("changed"), "{out}");
        assert!(out.contains("\"DB_PASS\":\"(sensitive value)\""), "{out}");
    }
}
