//! `S3Api` over the S3 SDK (path-style client). Notification entries that
//! are not Lambda ones (queues, topics, EventBridge) travel as opaque JSON in
//! the shape of the S3 API (`QueueConfigurations`, `TopicConfigurations`,
//! `EventBridgeConfiguration`) and are written back as they were read.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Event, EventBridgeConfiguration,
    FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter, Tag, Tagging,
    TopicConfiguration,
};
use serde_json::{json, Map, Value};

use super::cloud::{build_error, has_code, is_not_found, AwsCloud, Guarded};
use crate::cloud::{
    BucketState, Cloud, CloudError, CloudResult, ErrorKind, LambdaNotification, NotificationConfig,
    S3Api, Tags,
};

impl S3Api for AwsCloud {
    async fn get_bucket(&self, name: &str) -> CloudResult<Option<BucketState>> {
        self.record("GetBucketTagging")?;
        match self
            .s3
            .get_bucket_tagging()
            .bucket(name)
            .send()
            .guarded(self, "GetBucketTagging")
            .await?
        {
            Ok(out) => {
                let tags = out
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                Ok(Some(BucketState {
                    name: name.to_string(),
                    tags: Some(tags),
                }))
            }
            Err(e) if has_code(&e, &["NoSuchTagSet"]) => Ok(Some(BucketState {
                name: name.to_string(),
                tags: None,
            })),
            // Missing, another account's, or in another region: not ours to see.
            Err(e) if is_not_found(&e) || has_code(&e, &["AccessDenied", "PermanentRedirect"]) => {
                Ok(None)
            }
            Err(e) => Err(self.sdk_error(format!("GetBucketTagging {name}"), e)),
        }
    }

    async fn create_bucket(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        let op = format!("CreateBucket {name}");
        // Tags go in the create call itself, so that a crash right after it
        // never leaves an untagged bucket that scar would not recognise.
        let tag_set = tag_set(tags, &op)?;
        let mut config = CreateBucketConfiguration::builder().set_tags(Some(tag_set));
        if self.region() != "us-east-1" {
            config = config.location_constraint(BucketLocationConstraint::from(self.region()));
        }
        let mut req = self.s3.create_bucket().bucket(name);
        if !tags.is_empty() || self.region() != "us-east-1" {
            req = req.create_bucket_configuration(config.build());
        }
        self.record("CreateBucket")?;
        req.send()
            .guarded(self, "CreateBucket")
            .await?
            .map_err(|e| self.sdk_error(op, e))?;
        // moto 5.2.5 ignores tags given at creation: set them again (a
        // no-op on AWS, where they are already there).
        // A new bucket has no tags of others to keep.
        if !tags.is_empty() {
            self.write_bucket_tags(name, tags).await?;
        }
        Ok(())
    }

    async fn put_bucket_tags(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        // PutBucketTagging replaces the whole set: keep the tags that are
        // not scar's (a bucket made by hand, then imported, keeps its own).
        let current = self.get_bucket(name).await?.and_then(|b| b.tags);
        self.write_bucket_tags(name, &crate::cloud::with_scar_tags(current, tags))
            .await
    }

    async fn bucket_has_objects(&self, name: &str) -> CloudResult<bool> {
        self.record("ListObjectsV2")?;
        let out = self
            .s3
            .list_objects_v2()
            .bucket(name)
            .max_keys(1)
            .send()
            .guarded(self, "ListObjectsV2")
            .await?
            .map_err(|e| self.sdk_error(format!("ListObjectsV2 {name}"), e))?;
        Ok(out.key_count().unwrap_or(0) > 0 || !out.contents().is_empty())
    }

    async fn delete_bucket(&self, name: &str) -> CloudResult<bool> {
        self.record("DeleteBucket")?;
        match self
            .s3
            .delete_bucket()
            .bucket(name)
            .send()
            .guarded(self, "DeleteBucket")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteBucket {name}"), e)),
        }
    }

    async fn get_notifications(&self, bucket: &str) -> CloudResult<NotificationConfig> {
        self.record("GetBucketNotificationConfiguration")?;
        let out = match self
            .s3
            .get_bucket_notification_configuration()
            .bucket(bucket)
            .send()
            .guarded(self, "GetBucketNotificationConfiguration")
            .await?
        {
            Ok(out) => out,
            Err(e) if is_empty_document(&e) => return Ok(NotificationConfig::default()),
            Err(e) => {
                return Err(
                    self.sdk_error(format!("GetBucketNotificationConfiguration {bucket}"), e)
                )
            }
        };
        let lambda = out
            .lambda_function_configurations()
            .iter()
            .map(|c| {
                let (prefix, suffix) = prefix_suffix(c.filter());
                LambdaNotification {
                    id: c.id().unwrap_or_default().to_string(),
                    function_arn: c.lambda_function_arn().to_string(),
                    events: c.events().iter().map(|e| e.as_str().to_string()).collect(),
                    prefix,
                    suffix,
                }
            })
            .collect();
        let mut others = Map::new();
        let queues: Vec<Value> = out
            .queue_configurations()
            .iter()
            .map(|q| entry_json(q.id(), "QueueArn", q.queue_arn(), q.events(), q.filter()))
            .collect();
        if !queues.is_empty() {
            others.insert("QueueConfigurations".into(), Value::Array(queues));
        }
        let topics: Vec<Value> = out
            .topic_configurations()
            .iter()
            .map(|t| entry_json(t.id(), "TopicArn", t.topic_arn(), t.events(), t.filter()))
            .collect();
        if !topics.is_empty() {
            others.insert("TopicConfigurations".into(), Value::Array(topics));
        }
        if out.event_bridge_configuration().is_some() {
            others.insert("EventBridgeConfiguration".into(), json!({}));
        }
        let others = if others.is_empty() {
            Value::Null
        } else {
            Value::Object(others)
        };
        Ok(NotificationConfig { lambda, others })
    }

    async fn put_notifications(
        &self,
        bucket: &str,
        config: &NotificationConfig,
    ) -> CloudResult<()> {
        let op = format!("PutBucketNotificationConfiguration {bucket}");
        let invalid = |msg: String| CloudError::with_kind(&op, ErrorKind::Invalid, msg);
        let mut conf = NotificationConfiguration::builder();
        for n in &config.lambda {
            let entry = LambdaFunctionConfiguration::builder()
                .set_id((!n.id.is_empty()).then(|| n.id.clone()))
                .lambda_function_arn(&n.function_arn)
                .set_events(Some(
                    n.events.iter().map(|e| Event::from(e.as_str())).collect(),
                ))
                .set_filter(filter(n.prefix.as_deref(), n.suffix.as_deref()))
                .build()
                .map_err(|e| build_error(&op, e))?;
            conf = conf.lambda_function_configurations(entry);
        }
        for q in json_entries(&config.others, "QueueConfigurations", "QueueArn").map_err(invalid)? {
            let entry = QueueConfiguration::builder()
                .set_id(q.id)
                .queue_arn(q.arn)
                .set_events(Some(q.events))
                .set_filter(q.filter)
                .build()
                .map_err(|e| build_error(&op, e))?;
            conf = conf.queue_configurations(entry);
        }
        for t in json_entries(&config.others, "TopicConfigurations", "TopicArn").map_err(invalid)? {
            let entry = TopicConfiguration::builder()
                .set_id(t.id)
                .topic_arn(t.arn)
                .set_events(Some(t.events))
                .set_filter(t.filter)
                .build()
                .map_err(|e| build_error(&op, e))?;
            conf = conf.topic_configurations(entry);
        }
        if config.others.get("EventBridgeConfiguration").is_some() {
            conf = conf.event_bridge_configuration(EventBridgeConfiguration::builder().build());
        }
        self.record("PutBucketNotificationConfiguration")?;
        self.s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(conf.build())
            .send()
            .guarded(self, "PutBucketNotificationConfiguration")
            .await?
            .map_err(|e| self.sdk_error(op, e))?;
        Ok(())
    }

    async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> CloudResult<()> {
        self.record("PutObject")?;
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .guarded(self, "PutObject")
            .await?
            .map_err(|e| self.sdk_error(format!("PutObject {bucket}/{key}"), e))?;
        Ok(())
    }

    async fn put_object_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> CloudResult<bool> {
        self.record("PutObject")?;
        match self
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(body.to_vec()))
            .send()
            .guarded(self, "PutObject")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_precondition_failed(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("PutObject (if absent) {bucket}/{key}"), e)),
        }
    }

    async fn get_object(&self, bucket: &str, key: &str) -> CloudResult<Option<(Vec<u8>, String)>> {
        let op = format!("GetObject {bucket}/{key}");
        self.record("GetObject")?;
        let out = match self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .guarded(self, "GetObject")
            .await?
        {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(self.sdk_error(op, e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| CloudError::new(op, e))?
            .into_bytes()
            .to_vec();
        Ok(Some((body, etag)))
    }

    async fn delete_object_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
    ) -> CloudResult<bool> {
        self.record("DeleteObject")?;
        match self
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .if_match(etag)
            .send()
            .guarded(self, "DeleteObject")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_precondition_failed(&e) => Ok(false),
            Err(e) if is_not_found(&e) => Ok(true),
            Err(e) => Err(self.sdk_error(format!("DeleteObject (if match) {bucket}/{key}"), e)),
        }
    }
}

impl AwsCloud {
    /// PutBucketTagging: the bucket's whole tag set becomes `tags`.
    async fn write_bucket_tags(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        let op = format!("PutBucketTagging {name}");
        let tag_set = tag_set(tags, &op)?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(tag_set))
            .build()
            .map_err(|e| build_error(&op, e))?;
        self.record("PutBucketTagging")?;
        self.s3
            .put_bucket_tagging()
            .bucket(name)
            .tagging(tagging)
            .send()
            .guarded(self, "PutBucketTagging")
            .await?
            .map_err(|e| self.sdk_error(op, e))?;
        Ok(())
    }
}

/// Whether a conditional request failed its condition (412).
fn is_precondition_failed<E>(err: &SdkError<E>) -> bool {
    err.raw_response()
        .is_some_and(|r| r.status().as_u16() == 412)
}

/// Our tags as an S3 tag set.
fn tag_set(tags: &Tags, op: &str) -> CloudResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| build_error(op, e))
}

/// Whether a failed read is a 200 answer whose body is one empty element.
/// moto 5.2.5 answers a bucket without notifications with
/// `<GetBucketNotificationResponse/>`, a root the SDK rejects; AWS answers
/// `<NotificationConfiguration/>`. Both mean "no configuration".
fn is_empty_document<E>(err: &SdkError<E>) -> bool {
    err.raw_response().is_some_and(|raw| {
        raw.status().as_u16() == 200
            && raw
                .body()
                .bytes()
                .is_some_and(|b| is_one_empty_element(&String::from_utf8_lossy(b)))
    })
}

/// `<?xml ...?><Root xmlns="..."/>`, or `<Root/>`.
fn is_one_empty_element(body: &str) -> bool {
    let body = body.trim();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map(|(_, r)| r.trim())
            .unwrap_or_default(),
        None => body,
    };
    body.starts_with('<') && body.ends_with("/>") && body.matches('<').count() == 1
}

/// The prefix and suffix rules of a notification filter.
fn prefix_suffix(f: Option<&NotificationConfigurationFilter>) -> (Option<String>, Option<String>) {
    let mut prefix = None;
    let mut suffix = None;
    for rule in f
        .and_then(|f| f.key())
        .map(|k| k.filter_rules())
        .unwrap_or_default()
    {
        let name = rule.name().map(|n| n.as_str()).unwrap_or_default();
        let value = rule.value().map(str::to_string);
        if name.eq_ignore_ascii_case("prefix") {
            prefix = value;
        } else if name.eq_ignore_ascii_case("suffix") {
            suffix = value;
        }
    }
    (prefix, suffix)
}

fn filter(prefix: Option<&str>, suffix: Option<&str>) -> Option<NotificationConfigurationFilter> {
    let rules: Vec<FilterRule> = [("prefix", prefix), ("suffix", suffix)]
        .into_iter()
        .filter_map(|(name, value)| {
            Some(
                FilterRule::builder()
                    .name(FilterRuleName::from(name))
                    .value(value?)
                    .build(),
            )
        })
        .collect();
    if rules.is_empty() {
        return None;
    }
    let key = S3KeyFilter::builder().set_filter_rules(Some(rules)).build();
    Some(NotificationConfigurationFilter::builder().key(key).build())
}

/// A queue or topic entry as S3-API-shaped JSON.
fn entry_json(
    id: Option<&str>,
    arn_key: &str,
    arn: &str,
    events: &[Event],
    f: Option<&NotificationConfigurationFilter>,
) -> Value {
    let mut entry = Map::new();
    if let Some(id) = id {
        entry.insert("Id".into(), json!(id));
    }
    entry.insert(arn_key.into(), json!(arn));
    entry.insert(
        "Events".into(),
        json!(events.iter().map(Event::as_str).collect::<Vec<_>>()),
    );
    if let Some(key) = f.and_then(|f| f.key()) {
        let rules: Vec<Value> = key
            .filter_rules()
            .iter()
            .map(|r| json!({"Name": r.name().map(|n| n.as_str()), "Value": r.value()}))
            .collect();
        entry.insert("Filter".into(), json!({"Key": {"FilterRules": rules}}));
    }
    Value::Object(entry)
}

/// A queue or topic entry read back from the opaque JSON.
struct JsonEntry {
    id: Option<String>,
    arn: String,
    events: Vec<Event>,
    filter: Option<NotificationConfigurationFilter>,
}

fn json_entries(others: &Value, list: &str, arn_key: &str) -> Result<Vec<JsonEntry>, String> {
    let items = match others.get(list) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(format!(
                "`{list}` in the kept notification entries is not a list"
            ))
        }
    };
    items
        .iter()
        .map(|item| {
            let events = item["Events"]
                .as_array()
                .map(|es| {
                    es.iter()
                        .filter_map(Value::as_str)
                        .map(Event::from)
                        .collect()
                })
                .unwrap_or_default();
            let rules: Vec<FilterRule> = item["Filter"]["Key"]["FilterRules"]
                .as_array()
                .map(|rs| {
                    rs.iter()
                        .map(|r| {
                            FilterRule::builder()
                                .set_name(r["Name"].as_str().map(FilterRuleName::from))
                                .set_value(r["Value"].as_str().map(str::to_string))
                                .build()
                        })
                        .collect()
                })
                .unwrap_or_default();
            let filter = (!rules.is_empty()).then(|| {
                NotificationConfigurationFilter::builder()
                    .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                    .build()
            });
            Ok(JsonEntry {
                arn: item[arn_key].as_str().unwrap_or_default().to_string(),
                id: item["Id"].as_str().map(str::to_string),
                events,
                filter,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_an_empty_document() {
        let moto = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GetBucketNotificationResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
        assert!(is_one_empty_element(moto));
        assert!(is_one_empty_element("<NotificationConfiguration/>"));
        assert!(!is_one_empty_element("<A><B/></A>"));
        assert!(!is_one_empty_element("not xml"));
    }

    #[test]
    fn notification_filters_round_trip() {
        let f = filter(Some("in/"), Some(".jpg"));
        assert_eq!(
            prefix_suffix(f.as_ref()),
            (Some("in/".into()), Some(".jpg".into()))
        );
        assert_eq!(filter(None, None), None);
        let entry = entry_json(
            Some("q"),
            "QueueArn",
            "arn:q",
            &[Event::from("s3:ObjectCreated:*")],
            f.as_ref(),
        );
        let others = json!({ "QueueConfigurations": [entry] });
        let back = json_entries(&others, "QueueConfigurations", "QueueArn").unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].id.as_deref(), back[0].arn.as_str()),
            (Some("q"), "arn:q")
        );
        assert_eq!(back[0].events, vec![Event::from("s3:ObjectCreated:*")]);
        assert_eq!(back[0].filter, f);
        assert!(json_entries(
            &json!({"QueueConfigurations": 1}),
            "QueueConfigurations",
            "QueueArn"
        )
        .is_err());
    }
}
