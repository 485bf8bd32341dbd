//! `log_group`: `/aws/lambda/<function>`. Lambda creates one on a
//! function's first run, untagged: such a group is adopted. Another
//! workflow's is blocked (its tags are read, never assumed).

use super::{Found, KindRules};

pub struct LogGroup;

impl KindRules for LogGroup {
    fn unmanaged(&self) -> Found {
        Found::Adopt(Some(
            "adopted: the log group of a function this workflow manages",
        ))
    }
}
