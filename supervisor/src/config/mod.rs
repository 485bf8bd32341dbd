//! The function config scar (or SCAR) delivers to the runtime, and where it
//! comes from. Only the keys the supervisor uses are typed; everything else
//! in the file is accepted and ignored, as SCAR passes the whole merged
//! `lambda` block through. The shape is written down in
//! `schemas/function-config.schema.json`.

mod load;
mod types;

pub use load::{load, parse, ConfigError, ConfigSource, LoadedConfig};
pub use types::{
    BatchConfig, ContainerConfig, ExecutionMode, FunctionConfig, OutputSpec, Secret,
    StorageProvider, StorageProviders, StorageRef,
};
