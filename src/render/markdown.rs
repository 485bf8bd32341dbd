//! The plan as Markdown, for pull-request comments: the summary, a table of
//! the changes with their reasons, and the full text plan in a collapsed
//! `diff` block. Secrets are masked as in the text plan.

use std::fmt::Write;

use crate::plan::{Action, Plan};

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### scar plan: workflow `{}`\n", plan.workflow);
    let s = plan.summary();
    if !plan.warnings.is_empty() {
        out.push_str("**Warnings about the manifests:**\n\n");
        for w in &plan.warnings {
            let at = w
                .location
                .as_deref()
                .map(|l| format!(" (`{l}`)"))
                .unwrap_or_default();
            let hint = w
                .hint
                .as_deref()
                .map(|h| format!(" — {h}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} `{}`{at}: {}{hint}",
                w.severity, w.code, w.message
            );
        }
        out.push('\n');
    }
    if !plan.has_changes() && !plan.is_blocked() {
        let _ = writeln!(out, "**No changes.** The account matches the manifests.");
        return out;
    }
    let _ = write!(out, "**{}**", s.line());
    if s.blocked > 0 {
        let _ = write!(out, " **{} blocked.**", s.blocked);
    }
    out.push_str("\n\n| action | resource | why |\n|---|---|---|\n");
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let action = match c.action {
            Action::Create => "➕ create",
            Action::Update => "✏️ update",
            Action::Replace => "♻️ replace",
            Action::Delete => "➖ destroy",
            Action::Keep => "keep",
            Action::Blocked => "⛔ blocked",
            Action::NoOp => "",
        };
        let _ = writeln!(
            out,
            "| {action} | `{}` | {} |",
            c.address,
            c.reason.replace('|', "\\|")
        );
    }
    let _ = writeln!(
        out,
        "\n<details><summary>Full plan</summary>\n\n```diff\n{}```\n\n</details>",
        super::text::render(plan)
    );
    out
}
