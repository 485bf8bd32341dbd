//! Local runs of a function (`scar local invoke`): its image's root
//! filesystem unpacked and cached by digest (`rootfs`), a Lambda Runtime
//! API for one invocation on 127.0.0.1 (`runtime_api`), the event
//! (`event`), and the rootless sandbox that runs the supervisor in the
//! image (`run`).

pub mod event;
pub mod rootfs;
pub mod run;
pub mod runtime_api;
