//! `iam_role`: the workflow's least-privilege execution role. The default
//! rules: only its own workflow changes it; replaced by delete, then create.

use super::KindRules;

pub struct IamRole;

impl KindRules for IamRole {}
