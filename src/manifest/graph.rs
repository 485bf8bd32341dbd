//! The workflow graph, which SCAR never checks: which function's outputs
//! trigger which function, endless loops, cycles across functions, and
//! triggers that overlap on one bucket (S3 rejects those).
//!
//! An `s3` input on `bucket/folder` is an `ObjectCreated` notification with
//! the key prefix `folder/` (none for a whole bucket). An output on
//! `bucket/folder` uploads each file as `folder/<relative path>`, filtered by
//! the output's `prefix`/`suffix` lists. An output *definitely* lands in an
//! input when every file it uploads (that passes its filters) has a key under
//! the input's prefix; it *may* land when that depends on the folders the
//! script creates in `$TMP_OUTPUT_DIR`.

use std::collections::BTreeMap;
use std::ops::Range;

use super::checks::{split_path, split_provider};
use super::diag::Diagnostic;
use super::yaml::path_string;
use super::{Locator, Manifest};
use crate::p;

/// An S3 trigger of a function.
#[derive(Clone, Debug)]
struct Trigger {
    func: usize,
    input: usize,
    bucket: String,
    /// `folder/`, or empty for the whole bucket.
    prefix: String,
}

/// Where a function uploads.
#[derive(Clone, Debug)]
struct Output {
    func: usize,
    output: usize,
    bucket: String,
    base: String,
    prefixes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Landing {
    Possible,
    Definite,
}

fn landing(o: &Output, t: &Trigger) -> Option<Landing> {
    if o.bucket != t.bucket {
        return None;
    }
    if o.base.starts_with(&t.prefix) {
        return Some(Landing::Definite);
    }
    let rest = t.prefix.strip_prefix(&o.base)?;
    if o.prefixes.is_empty() {
        return Some(Landing::Possible);
    }
    if o.prefixes.iter().any(|p| p.starts_with(rest)) {
        Some(Landing::Definite)
    } else if o.prefixes.iter().any(|p| rest.starts_with(p.as_str())) {
        Some(Landing::Possible)
    } else {
        None
    }
}

fn folder_prefix(folder: &str) -> String {
    if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    }
}

/// Checks the workflow graph of a manifest.
pub fn check(m: &Manifest, at: &Locator) -> Vec<Diagnostic> {
    let mut triggers = Vec::new();
    let mut outputs = Vec::new();
    for (fi, f) in m.functions.iter().enumerate() {
        for (i, inp) in f.spec.lambda.input.iter().enumerate() {
            if inp.storage_provider != "s3" {
                continue;
            }
            let (bucket, folder) = split_path(&inp.path);
            triggers.push(Trigger {
                func: fi,
                input: i,
                bucket: bucket.to_string(),
                prefix: folder_prefix(folder),
            });
        }
        for (i, out) in f.spec.lambda.output.iter().enumerate() {
            if split_provider(&out.storage_provider).0 != "s3" {
                continue;
            }
            let (bucket, folder) = split_path(&out.path);
            outputs.push(Output {
                func: fi,
                output: i,
                bucket: bucket.to_string(),
                base: folder_prefix(folder),
                prefixes: out
                    .prefix
                    .iter()
                    .map(|p| p.trim_start_matches('/').to_string())
                    .collect(),
            });
        }
    }
    let mut out = Vec::new();
    let input_span = |t: &Trigger| -> (usize, Range<usize>, String) {
        let f = &m.functions[t.func];
        let path = [f.path(), p!["lambda", "input", t.input, "path"]].concat();
        (f.file, at.span(f.file, &path), path_string(&path))
    };
    let output_span = |o: &Output| -> (usize, Range<usize>, String) {
        let f = &m.functions[o.func];
        let path = [f.path(), p!["lambda", "output", o.output, "path"]].concat();
        (f.file, at.span(f.file, &path), path_string(&path))
    };
    let name = |i: usize| m.functions[i].name().to_string();

    // Edges f -> g with the strongest landing, and the output/trigger pair.
    let mut edges: BTreeMap<(usize, usize), (Landing, usize, usize)> = BTreeMap::new();
    for (oi, o) in outputs.iter().enumerate() {
        for (ti, t) in triggers.iter().enumerate() {
            if let Some(l) = landing(o, t) {
                let e = edges.entry((o.func, t.func)).or_insert((l, oi, ti));
                if l > e.0 {
                    *e = (l, oi, ti);
                }
            }
        }
    }

    // Endless loops: a function triggered by its own outputs.
    for (&(from, to), &(l, oi, ti)) in &edges {
        if from != to {
            continue;
        }
        let o = &outputs[oi];
        let t = &triggers[ti];
        let (ofile, ospan, opath) = output_span(o);
        let (ifile, ispan, _) = input_span(t);
        let shown = format!("{}/{}", t.bucket, t.prefix);
        let d = match l {
            Landing::Definite => Diagnostic::error(
                "endless-loop",
                format!("`{}` writes its outputs under its own input `{shown}`: each result triggers it again, forever", name(from)),
            )
            .hint(format!("write the outputs to another folder, e.g. `{}/output`", t.bucket)),
            Landing::Possible => Diagnostic::warning(
                "possible-loop",
                format!("`{}` may write outputs under its own input `{shown}` (if the script creates that folder in $TMP_OUTPUT_DIR)", name(from)),
            )
            .hint("give the output its own folder, or a `prefix:` filter that excludes the input folder"),
        };
        out.push(
            d.at(ofile, ospan)
                .label("outputs go here")
                .also_at(ifile, ispan, "which triggers this input")
                .path(opath),
        );
    }

    // Cycles across functions.
    for (strength, code) in [
        (Landing::Definite, "workflow-cycle"),
        (Landing::Possible, "possible-cycle"),
    ] {
        let adj: BTreeMap<usize, Vec<usize>> = edges
            .iter()
            .filter(|(&(a, b), &(l, _, _))| a != b && l >= strength)
            .fold(BTreeMap::new(), |mut acc, (&(a, b), _)| {
                acc.entry(a).or_default().push(b);
                acc
            });
        for cycle in find_cycles(m.functions.len(), &adj) {
            if strength == Landing::Possible {
                // Already reported as a definite cycle?
                let definite = cycle.windows(2).all(|w| {
                    edges
                        .get(&(w[0], w[1]))
                        .is_some_and(|e| e.0 == Landing::Definite)
                });
                if definite {
                    continue;
                }
            }
            let names: Vec<String> = cycle.iter().map(|&i| format!("`{}`", name(i))).collect();
            let (_, oi, ti) = edges[&(cycle[0], cycle[1])];
            let (ofile, ospan, opath) = output_span(&outputs[oi]);
            let (ifile, ispan, _) = input_span(&triggers[ti]);
            let mut d = if strength == Landing::Definite {
                Diagnostic::error(
                    code,
                    format!(
                        "the functions form a cycle: {}; files flow around it forever",
                        names.join(" → ")
                    ),
                )
            } else {
                Diagnostic::warning(
                    code,
                    format!("the functions may form a cycle: {} (depending on the folders the scripts write)", names.join(" → ")),
                )
            };
            d = d
                .at(ofile, ospan)
                .label(format!("`{}` writes here", name(cycle[0])))
                .also_at(ifile, ispan, format!("which triggers `{}`", name(cycle[1])))
                .path(opath)
                .hint("break the cycle: at least one function must write where no function of the cycle reads");
            out.push(d);
        }
    }

    // Overlapping triggers on one bucket.
    for (i, a) in triggers.iter().enumerate() {
        for b in &triggers[i + 1..] {
            if a.bucket != b.bucket
                || !(a.prefix.starts_with(&b.prefix) || b.prefix.starts_with(&a.prefix))
            {
                continue;
            }
            let (afile, aspan, _) = input_span(a);
            let (bfile, bspan, bpath) = input_span(b);
            let d = if a.func == b.func && a.prefix == b.prefix {
                Diagnostic::error(
                    "duplicate-input",
                    format!(
                        "`{}` lists the input `{}/{}` twice",
                        name(a.func),
                        a.bucket,
                        a.prefix
                    ),
                )
                .hint("remove one of them")
            } else {
                Diagnostic::error(
                    "overlapping-triggers",
                    format!(
                        "`{}` and `{}` both trigger on objects under `{}/{}`: S3 rejects overlapping notifications on one bucket",
                        name(a.func),
                        name(b.func),
                        b.bucket,
                        if a.prefix.len() >= b.prefix.len() { &a.prefix } else { &b.prefix }
                    ),
                )
                .hint("give each function its own folder that is not inside another's, e.g. `bucket/resize-in` and `bucket/grey-in`")
            };
            out.push(
                d.at(bfile, bspan)
                    .label("this trigger")
                    .also_at(afile, aspan, "overlaps this one")
                    .path(bpath),
            );
        }
    }

    // Whole-bucket triggers.
    for t in &triggers {
        if t.prefix.is_empty() {
            let (file, span, path) = input_span(t);
            out.push(
                Diagnostic::warning(
                    "whole-bucket-trigger",
                    format!("every object created in bucket `{}` triggers `{}`", t.bucket, name(t.func)),
                )
                .at(file, span)
                .path(path)
                .hint(format!("use a folder, e.g. `{}/input`, so that other objects in the bucket do not trigger it", t.bucket)),
            );
        }
    }
    out
}

/// Elementary cycles of length ≥ 2, one per strongly connected component,
/// each rotated to start at its smallest node (deterministic). The returned
/// vectors end with their first node repeated.
fn find_cycles(n: usize, adj: &BTreeMap<usize, Vec<usize>>) -> Vec<Vec<usize>> {
    let sccs = tarjan(n, adj);
    let mut out = Vec::new();
    for scc in sccs {
        if scc.len() < 2 {
            continue;
        }
        let start = *scc.iter().min().unwrap_or(&0);
        // Shortest path from start back to start inside the component (BFS).
        let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = None;
        while let Some(u) = queue.pop_front() {
            for &v in adj.get(&u).map(Vec::as_slice).unwrap_or(&[]) {
                if !scc.contains(&v) {
                    continue;
                }
                if v == start {
                    found = Some(u);
                    break;
                }
                if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(v) {
                    e.insert(u);
                    queue.push_back(v);
                }
            }
            if found.is_some() {
                break;
            }
        }
        if let Some(last) = found {
            let mut path = vec![last];
            let mut cur = last;
            while cur != start {
                cur = prev[&cur];
                path.push(cur);
            }
            path.reverse();
            path.push(start);
            out.push(path);
        }
    }
    out.sort();
    out
}

fn tarjan(n: usize, adj: &BTreeMap<usize, Vec<usize>>) -> Vec<Vec<usize>> {
    struct St<'a> {
        adj: &'a BTreeMap<usize, Vec<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut St<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        let succ = s.adj.get(&v).cloned().unwrap_or_default();
        for w in succ {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            comp.sort();
            s.out.push(comp);
        }
    }
    let mut s = St {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(bucket: &str, base: &str, prefixes: &[&str]) -> Output {
        Output {
            func: 0,
            output: 0,
            bucket: bucket.into(),
            base: base.into(),
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
        }
    }
    fn trig(bucket: &str, prefix: &str) -> Trigger {
        Trigger {
            func: 0,
            input: 0,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn landing_rules() {
        assert_eq!(
            landing(&out("b", "in/out/", &[]), &trig("b", "in/")),
            Some(Landing::Definite)
        );
        assert_eq!(landing(&out("b", "out/", &[]), &trig("b", "in/")), None);
        assert_eq!(landing(&out("c", "in/", &[]), &trig("b", "in/")), None);
        assert_eq!(
            landing(&out("b", "", &[]), &trig("b", "in/")),
            Some(Landing::Possible)
        );
        assert_eq!(
            landing(&out("b", "", &["in/x"]), &trig("b", "in/")),
            Some(Landing::Definite)
        );
        assert_eq!(landing(&out("b", "", &["res"]), &trig("b", "in/")), None);
        assert_eq!(
            landing(&out("b", "x/", &[]), &trig("b", "")),
            Some(Landing::Definite)
        );
        // `in2/` is not under `in/`.
        assert_eq!(landing(&out("b", "in2/", &[]), &trig("b", "in/")), None);
    }

    #[test]
    fn cycles_are_found_deterministically() {
        let mut adj = BTreeMap::new();
        adj.insert(0, vec![1]);
        adj.insert(1, vec![2]);
        adj.insert(2, vec![0]);
        adj.insert(3, vec![3]);
        assert_eq!(find_cycles(4, &adj), vec![vec![0, 1, 2, 0]]);
    }
}
