//! `scar logs`: a function's CloudWatch logs (`/aws/lambda/<name>`), or a
//! Batch job's (`--job`, in `/aws/batch/job`). `--request-id` keeps one
//! invocation, from its `START` line to its `REPORT` line; `--since`,
//! `--filter` and `--follow` as in `aws logs tail`. The supervisor's JSON
//! log lines are shown readably on text output, and every event is one
//! JSON object per line with `-o json`.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::invoke::Answer;
use super::target;
use crate::cli::{LogsArgs, OutputFormat};
use crate::cloud::data::{DataPlane, LogEvent, LogEventsApi, LogQuery};
use crate::cloud::{CloudError, ErrorKind};
use crate::commands::{connect, ExitStatus};
use crate::settings::Settings;

/// Where Batch jobs log.
pub const BATCH_LOG_GROUP: &str = "/aws/batch/job";

/// How often `--follow` asks for new events.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn time_text(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(t).to_string()
}

/// The events of one invocation: in each stream that mentions `id`,
/// from its `START RequestId: <id>` line to its `REPORT RequestId: <id>`
/// line (or, without them, the lines that name it).
pub fn invocation(events: &[LogEvent], id: &str) -> Vec<LogEvent> {
    let start = format!("START RequestId: {id}");
    let report = format!("REPORT RequestId: {id}");
    let streams: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.message.contains(id))
        .map(|e| e.stream.as_str())
        .collect();
    let mut out = Vec::new();
    for s in streams {
        let in_stream: Vec<&LogEvent> = events.iter().filter(|e| e.stream == s).collect();
        let from = in_stream.iter().position(|e| e.message.starts_with(&start));
        let to = in_stream
            .iter()
            .rposition(|e| e.message.starts_with(&report));
        match (from, to) {
            (Some(a), Some(b)) if a <= b => {
                out.extend(in_stream[a..=b].iter().map(|e| (*e).clone()))
            }
            (Some(a), None) => out.extend(in_stream[a..].iter().map(|e| (*e).clone())),
            _ => out.extend(
                in_stream
                    .iter()
                    .filter(|e| e.message.contains(id))
                    .map(|e| (*e).clone()),
            ),
        }
    }
    out.sort_by(|a, b| (a.timestamp, &a.event_id).cmp(&(b.timestamp, &b.event_id)));
    out
}

/// A log line as people read it: the supervisor's JSON lines
/// (`{"timestamp", "level", "message", ...}`) as `LEVEL message k=v`,
/// anything else as it is.
pub fn readable(message: &str) -> String {
    let trimmed = message.trim_end();
    let Ok(Value::Object(o)) = serde_json::from_str::<Value>(trimmed) else {
        return trimmed.to_string();
    };
    let Some(msg) = o
        .get("message")
        .or_else(|| o.get("fields").and_then(|f| f.get("message")))
    else {
        return trimmed.to_string();
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut line = String::new();
    if let Some(level) = o.get("level") {
        line.push_str(&format!("{:<5} ", text(level)));
    }
    line.push_str(&text(msg));
    for (k, v) in &o {
        if matches!(
            k.as_str(),
            "message" | "level" | "timestamp" | "target" | "span" | "spans" | "fields"
        ) {
            continue;
        }
        line.push_str(&format!(" {k}={}", text(v)));
    }
    line
}

fn print(events: &[LogEvent], output: OutputFormat) {
    for e in events {
        match output {
            OutputFormat::Text => println!("{} {}", time_text(e.timestamp), readable(&e.message)),
            OutputFormat::Json => {
                let parsed = serde_json::from_str::<Value>(e.message.trim_end())
                    .ok()
                    .filter(Value::is_object);
                println!(
                    "{}",
                    json!({
                        "timestamp": e.timestamp,
                        "time": time_text(e.timestamp),
                        "stream": e.stream,
                        "message": e.message.trim_end(),
                        "fields": parsed,
                    })
                );
            }
        }
    }
}

/// A missing log group said plainly.
fn no_group(e: CloudError, group: &str, whose: &str) -> anyhow::Error {
    if e.kind == ErrorKind::NotFound {
        anyhow::anyhow!(
            "{whose} has no log group `{group}`: it has not logged anything yet, or its logs were deleted\nhint: check the name and the region (--region); `scar apply` makes a workflow function's log group"
        )
    } else {
        e.into()
    }
}

pub async fn logs(settings: &Settings, args: &LogsArgs) -> anyhow::Result<ExitStatus> {
    let start_ms = args.since.map(|d| millis(SystemTime::now() - d));
    if let Some(job) = &args.job {
        let cloud = connect(settings).await?;
        return job_logs(&cloud, job, args, start_ms).await;
    }
    let name = args
        .function
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("name the function (or a Batch job with --job)"))?;
    let t = target(&args.manifests, name)?;
    let group = t.log_group();
    let whose = format!("function `{}`", t.name);
    let cloud = connect(settings).await?;
    let mut query = LogQuery {
        group: group.clone(),
        start_ms,
        pattern: args.filter.clone(),
        ..LogQuery::default()
    };
    let events = if let Some(id) = &args.request_id {
        // The lines that name the request find its streams and its time;
        // then those streams are read over that time.
        let marked = cloud
            .filter_log_events(&LogQuery {
                pattern: Some(format!("\"{id}\"")),
                ..query.clone()
            })
            .await
            .map_err(|e| no_group(e, &group, &whose))?;
        if marked.is_empty() {
            anyhow::bail!(
                "no log event of {whose} names request `{id}`{}\nhint: check the id (`scar invoke` prints it as Request Id); a request logs a few seconds after it ends",
                args.since.map(|d| format!(" in the last {}", humantime::format_duration(d))).unwrap_or_default()
            );
        }
        let streams: BTreeSet<String> = marked.iter().map(|e| e.stream.clone()).collect();
        let around = cloud
            .filter_log_events(&LogQuery {
                streams: streams.into_iter().collect(),
                start_ms: marked.iter().map(|e| e.timestamp).min(),
                end_ms: marked.iter().map(|e| e.timestamp).max(),
                ..query.clone()
            })
            .await
            .map_err(|e| no_group(e, &group, &whose))?;
        invocation(&around, id)
    } else {
        cloud
            .filter_log_events(&query)
            .await
            .map_err(|e| no_group(e, &group, &whose))?
    };
    print(&events, args.output);
    if args.follow {
        follow(&cloud, &mut query, events, args.output).await?;
    }
    Ok(ExitStatus::Success)
}

/// Prints new events as they come, until interrupted.
async fn follow<C: LogEventsApi>(
    cloud: &C,
    query: &mut LogQuery,
    seen: Vec<LogEvent>,
    output: OutputFormat,
) -> anyhow::Result<()> {
    let mut last = seen.iter().map(|e| e.timestamp).max();
    let mut ids: BTreeSet<String> = seen.into_iter().map(|e| e.event_id).collect();
    loop {
        tokio::time::sleep(FOLLOW_EVERY).await;
        query.start_ms = Some(last.unwrap_or_else(|| millis(SystemTime::now() - FOLLOW_EVERY)));
        let new: Vec<LogEvent> = cloud
            .filter_log_events(query)
            .await?
            .into_iter()
            .filter(|e| !ids.contains(&e.event_id))
            .collect();
        print(&new, output);
        for e in new {
            last = Some(last.map_or(e.timestamp, |l| l.max(e.timestamp)));
            ids.insert(e.event_id);
        }
    }
}

async fn job_logs<C: DataPlane>(
    cloud: &C,
    id: &str,
    args: &LogsArgs,
    start_ms: Option<i64>,
) -> anyhow::Result<ExitStatus> {
    let Some(job) = cloud.describe_job(id).await? else {
        anyhow::bail!(
            "AWS Batch knows no job `{id}` in {}\nhint: the function's answer names its job (`scar logs FUNCTION` shows it); Batch forgets jobs some days after they end",
            cloud.region()
        );
    };
    let Some(stream) = job.log_stream else {
        eprintln!(
            "note: job `{}` ({}) is {} and has no log stream yet{}",
            job.id,
            job.name,
            job.status,
            job.status_reason
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        return Ok(ExitStatus::Success);
    };
    let mut query = LogQuery {
        group: BATCH_LOG_GROUP.into(),
        streams: vec![stream],
        start_ms,
        pattern: args.filter.clone(),
        ..LogQuery::default()
    };
    let whose = format!("job `{id}`");
    let events = cloud
        .filter_log_events(&query)
        .await
        .map_err(|e| no_group(e, BATCH_LOG_GROUP, &whose))?;
    eprintln!("Job {} ({}): {}", job.id, job.name, job.status);
    print(&events, args.output);
    if args.follow {
        follow(cloud, &mut query, events, args.output).await?;
    }
    Ok(ExitStatus::Success)
}

/// The log of the invocation an endpoint answered for (its group and
/// stream from the answer's headers), last 4 KB, as Lambda's `LogType=Tail`
/// gives it; `None` when it cannot be read.
pub async fn tail_of<C: LogEventsApi>(cloud: &C, answer: &Answer) -> Option<String> {
    let (group, stream) = (answer.log_group.as_ref()?, answer.log_stream.as_ref()?);
    let events = cloud
        .filter_log_events(&LogQuery {
            group: group.clone(),
            streams: vec![stream.clone()],
            start_ms: Some(millis(SystemTime::now() - Duration::from_secs(900))),
            ..LogQuery::default()
        })
        .await
        .ok()?;
    let events = match &answer.request_id {
        Some(id) => invocation(&events, id),
        None => events,
    };
    let text: String = events.iter().map(|e| e.message.clone()).collect();
    let cut = text.len().saturating_sub(4096);
    let cut = (cut..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    Some(text[cut..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, stream: &str, msg: &str) -> LogEvent {
        LogEvent {
            timestamp: ts,
            stream: stream.into(),
            message: msg.into(),
            event_id: format!("{stream}-{ts}"),
        }
    }

    #[test]
    fn one_invocation_is_kept_from_start_to_report() {
        let events = vec![
            ev(1, "s", "START RequestId: a Version: $LATEST"),
            ev(2, "s", "a's output"),
            ev(3, "s", "REPORT RequestId: a Duration: 1 ms"),
            ev(4, "s", "START RequestId: b Version: $LATEST"),
            ev(5, "s", "b's output"),
            ev(6, "s", "REPORT RequestId: b Duration: 1 ms"),
        ];
        let got: Vec<i64> = invocation(&events, "b")
            .iter()
            .map(|e| e.timestamp)
            .collect();
        assert_eq!(got, [4, 5, 6]);
    }

    #[test]
    fn supervisor_json_lines_read_as_text() {
        let line = r#"{"timestamp":"2026-12-02T00:00:00Z","level":"INFO","message":"uploaded","key":"out/a.txt","target":"scar_supervisor"}"#;
        assert_eq!(readable(line), "INFO  uploaded key=out/a.txt");
        assert_eq!(readable("plain text\n"), "plain text");
    }
}
