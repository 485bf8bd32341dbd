//! scar-supervisor: the in-function runtime of scar. It stages the input
//! named by an event (S3, API Gateway, direct), runs the user's script,
//! uploads what the script wrote to `$TMP_OUTPUT_DIR`, and answers with an
//! API-Gateway-shaped response; or hands the event to AWS Batch. It runs as
//! the Lambda custom-runtime `bootstrap` or as a plain command (Batch jobs,
//! local runs). Its contract with `scar` is data: the schemas in `schemas/`.

pub mod app;
pub mod batch;
pub mod command;
pub mod config;
pub mod event;
pub mod invoke;
pub mod lambda;
pub mod logging;
pub mod net;
pub mod outputs;
pub mod response;
pub mod script;
pub mod storage;
pub mod workspace;
