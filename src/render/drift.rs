//! The drift report for people and programs: text for a terminal or a
//! scheduled job's log, Markdown for an issue or a chat message, JSON in
//! a versioned schema (`schemas/drift.schema.json`); and the "Objects
//! have changed outside of scar" section that `plan` shows. Secrets are
//! masked in every format, as in plans.

use std::fmt::Write;

use serde_json::Value;

use super::text::compact;
use crate::drift::doc::{to_doc, DriftAttrDoc, DriftDoc, FindingDoc};
use crate::drift::{Report, Status};

/// The report as a JSON document.
pub fn json(report: &Report, aws_requests: u64) -> String {
    serde_json::to_string_pretty(&to_doc(report, aws_requests)).unwrap_or_default()
}

/// What a value shows as: compact JSON, or `(not recorded)` where only a
/// hash of the applied value is known.
fn shown(v: Option<&Value>) -> String {
    v.map(compact)
        .unwrap_or_else(|| "(not recorded)".to_string())
}

fn attr_line(a: &DriftAttrDoc) -> String {
    let before = if a.before_known {
        shown(a.before.as_ref())
    } else {
        shown(None)
    };
    format!("{}: {} -> {}", a.name, before, shown(a.after.as_ref()))
}

/// What the statuses mean, as the text report heads them.
fn heading(status: Status) -> &'static str {
    match status {
        Status::Drift => "Changed outside of scar (drift: applied -> now in the account)",
        Status::Pending => "Not applied yet (pending: applied -> wanted by the manifests)",
        Status::Unmanaged => "Carrying the workflow's tags, declared by no manifest (unmanaged)",
        Status::OriginUnknown => {
            "Differing from the manifests, origin unknown (their applied record is gone: in the account -> wanted)"
        }
        Status::Unowned => "Looking like SCAR's, in no workflow (unowned)",
    }
}

const STATUSES: [Status; 5] = [
    Status::Drift,
    Status::OriginUnknown,
    Status::Pending,
    Status::Unmanaged,
    Status::Unowned,
];

/// How a finding's change reads (`changed`, `deleted`, ...).
fn change_text(f: &FindingDoc) -> String {
    serde_json::to_value(f.change)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn of_status(doc: &DriftDoc, status: Status) -> Vec<&FindingDoc> {
    doc.findings.iter().filter(|f| f.status == status).collect()
}

fn finding_lines(out: &mut String, f: &FindingDoc, indent: &str) {
    let _ = writeln!(
        out,
        "{indent}# {} ({}): {}",
        f.address,
        change_text(f),
        f.reason
    );
    for a in &f.attributes {
        let _ = writeln!(out, "{indent}    {}", attr_line(a));
    }
}

/// The report as text.
pub fn text(report: &Report, aws_requests: u64) -> String {
    let doc = to_doc(report, aws_requests);
    let mut out = String::new();
    if doc.in_sync {
        let _ = writeln!(
            out,
            "In sync: the account matches what scar applied and the manifests of workflow `{}` ({} resources).",
            doc.workflow, doc.summary.in_sync
        );
        return out;
    }
    let _ = writeln!(out, "Workflow `{}`:\n", doc.workflow);
    for status in STATUSES {
        let of = of_status(&doc, status);
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}:", heading(status));
        for f in of {
            finding_lines(&mut out, f, "  ");
        }
        out.push('\n');
    }
    out.push_str(&summary_line(&doc));
    out.push('\n');
    out
}

fn summary_line(doc: &DriftDoc) -> String {
    let s = &doc.summary;
    format!(
        "Drift: {} drifted, {} pending, {} unmanaged, {} of unknown origin{}; {} in sync.",
        s.drift,
        s.pending,
        s.unmanaged,
        s.origin_unknown,
        if s.unowned > 0 {
            format!(", {} unowned", s.unowned)
        } else {
            String::new()
        },
        s.in_sync
    )
}

/// The report as Markdown: a summary line, then a table per status.
pub fn markdown(report: &Report, aws_requests: u64) -> String {
    let doc = to_doc(report, aws_requests);
    let mut out = String::new();
    let _ = writeln!(out, "### scar drift: workflow `{}`\n", doc.workflow);
    if doc.in_sync {
        let _ = writeln!(
            out,
            "**In sync.** The account matches what scar applied and the manifests ({} resources).",
            doc.summary.in_sync
        );
        return out;
    }
    let _ = writeln!(out, "**{}**\n", summary_line(&doc));
    for status in STATUSES {
        let of = of_status(&doc, status);
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(out, "#### {}\n", heading(status));
        let _ = writeln!(out, "| Resource | Change | Attributes | Why |");
        let _ = writeln!(out, "|---|---|---|---|");
        for f in of {
            let attrs: Vec<String> = f
                .attributes
                .iter()
                .map(|a| format!("`{}`", cell(&attr_line(a))))
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                f.address,
                change_text(f),
                attrs.join("<br>"),
                cell(&f.reason)
            );
        }
        out.push('\n');
    }
    out
}

/// Text made safe for one Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The section `plan` shows before its changes, as terraform does since
/// 0.15.4: what changed outside scar (empty when nothing did).
pub fn outside_section(report: &Report) -> String {
    let doc = to_doc(report, 0);
    let outside: Vec<&FindingDoc> = doc
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Drift | Status::OriginUnknown))
        .collect();
    if outside.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "Objects have changed outside of scar\n\nscar found these changes in the account since it last applied the workflow:\n\n",
    );
    for f in outside {
        finding_lines(&mut out, f, "  ");
    }
    out.push_str("\nUnless the manifests are changed to match, the plan below undoes them.\n\n");
    out
}

/// The same section for a Markdown plan (a pull-request comment): empty
/// when nothing changed outside scar.
pub fn outside_markdown(report: &Report) -> String {
    let text = outside_section(report);
    if text.is_empty() {
        return text;
    }
    format!("**Objects have changed outside of scar** (the plan below undoes them unless the manifests follow):\n\n```\n{text}```\n\n")
}
